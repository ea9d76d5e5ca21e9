"""Each cleaning rule against its fixture file ``tests/fixtures/clean/<rule>.txt``.

Fixture format (after markdown-it-py's): a title line, optionally a ``meta: {json}`` line
with metadata earlier rules would have found, then ``.``, the raw input, ``.``, the expected
output, ``.``; cases are separated by blank lines."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.ingest.clean import Cleaned, clean_text, default_ruler

FIXTURES = Path(__file__).parent / "fixtures" / "clean"


def read_fixtures(path: Path) -> list[tuple[str, dict, str, str]]:
    cases = []
    lines = path.read_text("utf-8").split("\n")
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        title = lines[index]
        index += 1
        meta: dict = {}
        if lines[index].startswith("meta: "):
            meta = json.loads(lines[index][len("meta: "):])
            index += 1
        assert lines[index] == ".", f"{path.name}: expected '.' after {title!r}"
        blocks: list[list[str]] = [[], []]
        for block in blocks:
            index += 1
            while lines[index] != ".":
                block.append(lines[index])
                index += 1
        index += 1
        cases.append((title, meta, "\n".join(blocks[0]), "\n".join(blocks[1])))
    return cases


def all_cases():
    ruler = default_ruler()
    for name in ruler.names:
        path = FIXTURES / f"{name}.txt"
        for title, meta, raw, expected in read_fixtures(path):
            yield pytest.param(name, meta, raw, expected, id=f"{name}: {title}")


def test_every_rule_has_fixtures():
    assert sorted(p.stem for p in FIXTURES.glob("*.txt")) == sorted(default_ruler().names)


@pytest.mark.parametrize("rule,meta,raw,expected", list(all_cases()))
def test_rule_fixture(rule, meta, raw, expected):
    result = default_ruler().get(rule).func(Cleaned(raw).with_meta(**meta))
    assert result.text.strip("\n") == expected.strip("\n")


def test_metadata_goes_to_meta_not_lost():
    ruler = default_ruler()
    meta = ruler.get("metadata_line").func(Cleaned("2022-01-30 19:04:10 秘书处 1\n正文。")).meta
    assert meta["published"] == date(2022, 1, 30) and meta["author"] == "秘书处"
    assert ruler.get("metadata_line").func(Cleaned("2025-06-301")).meta["published"] == date(2025, 6, 30)
    labelled = ruler.get("metadata_line").func(Cleaned("发布时间：2025-02-21 来源：工信微报 浏览次数：35")).meta
    assert labelled == {"published": date(2025, 2, 21), "source": "工信微报", "views": "35"}
    assert ruler.get("keywords_line").func(Cleaned("标签：北斗、卫星导航 5G")).meta["tags"] == ["北斗", "卫星导航", "5G"]
    credits = ruler.get("footer_credits").func(Cleaned("编辑:何 宁\n监制:李永强")).meta
    assert credits == {"editor": "何宁", "supervisor": "李永强"}
    assert ruler.get("to_simplified").func(Cleaned("會議在莫斯科舉行")).meta["original_script"] == "traditional"


_HOSTILE_ALPHABET = "國(guó)我们的，,.:：;?!（）() \n\t　首页>相关阅读图片关键词链接»»编辑:2025-06-30年月日1２abc"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(_HOSTILE_ALPHABET)), max_size=200))
def test_cleaning_is_idempotent_and_never_crashes(text):
    once = clean_text(text)
    assert clean_text(once.text).text == once.text
