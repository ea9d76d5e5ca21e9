"""The five seed documents through ``sitegen ingest``, checked against seeds/expected.yaml."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from sitegen.frontmatter import parse_page
from sitegen.text import nfkc

PINYIN_ANNOTATION = re.compile(r"[\u4e00-\u9fff][(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+[)）]")


def load_pages(content: Path) -> dict[str, dict]:
    pages = {}
    for path in sorted(content.rglob("*.md")):
        page = parse_page(path.read_text("utf-8"), path)
        pages[page.front["origin"].rsplit("/", 1)[-1]] = {"front": page.front, "body": page.body, "path": path}
    return pages


@pytest.fixture(scope="module")
def pages(ingested_seeds: Path) -> dict[str, dict]:
    return load_pages(ingested_seeds)


def expected_items(expected: dict):
    for name, doc in expected["documents"].items():
        for position, item in enumerate(doc["item_list"], start=1):
            yield pytest.param(name, position, item, id=f"{name[:3]}#{position}")


def test_every_item_split_out_and_no_extra(pages, expected):
    want = {f"{name}#{i}" for name, doc in expected["documents"].items() for i in range(1, doc["items"] + 1)}
    assert set(pages) == want
    assert len(pages) == 31


def _item_params():
    import yaml

    from tests.conftest import SEEDS

    if not SEEDS.is_dir():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason="../shared not present"))]
    data = yaml.safe_load((SEEDS / "expected.yaml").read_text("utf-8"))
    return list(expected_items(data))


@pytest.mark.parametrize("name,position,item", _item_params())
def test_item_title_date_and_text(pages, expected, name, position, item):
    page = pages[f"{name}#{position}"]
    front, body = page["front"], nfkc(page["body"])
    title = nfkc(front["title"])
    if "title" in item:
        assert title == nfkc(item["title"])
    for word in item.get("title_has", []):
        assert nfkc(word) in title
    assert len(front["title"]) <= 40
    if "title_has" in item:
        assert len(front["title"]) <= 30, "generated headlines are at most 30 characters"
    news_date = front.get("event_date", front["date"])
    if "event_date" in item:
        assert front["date"] == item["date"]
        assert front["event_date"] == item["event_date"]
        assert front["date_uncertain"] is False
    elif "date" in item:
        assert news_date == item["date"]
        assert front["date_uncertain"] is False
    elif "month_day" in item:
        assert f"{news_date:%m-%d}" == item["month_day"]
        assert front["date_uncertain"] is (item.get("year_certain", True) is False)
    if item.get("week_only"):
        week = expected["documents"][name]["week"]
        assert f"{front['date'].isocalendar().year}-W{front['date'].isocalendar().week:02d}" == week
    if "category" in item:
        assert front.get("category") == item["category"]
    for phrase in item.get("must_keep", []):
        assert nfkc(phrase) in body
    for tag in item.get("tags", []):
        assert tag in front.get("tags", [])
    if "author" in item:
        assert front.get("author") == item["author"]
    assert isinstance(front["date"], date)
    assert front["origin"] == f"seeds/{name}#{position}"  # the folder given, then the file


def test_boilerplate_dropped_everywhere(ingested_seeds, expected):
    text = nfkc("\n".join(p.read_text("utf-8") for p in sorted(ingested_seeds.rglob("*.md"))))
    for doc in expected["documents"].values():
        for phrase in doc.get("must_drop", []):
            assert nfkc(phrase) not in text, phrase
    assert not PINYIN_ANNOTATION.search(text)


def test_no_traditional_characters_left(ingested_seeds):
    import opencc

    to_simplified = opencc.OpenCC("t2s")
    for path in ingested_seeds.rglob("*.md"):
        body = parse_page(path.read_text("utf-8"), path).body
        changed = [a for a, b in zip(body, to_simplified.convert(body)) if a != b]
        assert len(changed) <= 2, (path.name, changed[:10])


def test_footer_credits_go_to_front_matter(pages):
    digest_item = pages["002_a4f1003013b09d60.txt#3"]["front"]
    assert digest_item["editor"] == "何宁" and digest_item["supervisor"] == "李永强"
    assert pages["001_51a7d7692a39092e.txt#1"]["front"]["author"] == "秘书处"


def test_traditional_source_is_noted(pages):
    assert pages["000_5229b3f023182234.txt#1"]["front"]["original_script"] == "traditional"
    assert "original_script" not in pages["002_a4f1003013b09d60.txt#1"]["front"]


def test_second_run_writes_nothing(ingested_seeds, seeds_dir):
    from click.testing import CliRunner

    from sitegen.cli import cli

    before = {p: p.read_bytes() for p in ingested_seeds.rglob("*") if p.is_file()}
    result = CliRunner().invoke(cli, ["ingest", str(seeds_dir), "--content", str(ingested_seeds)])
    assert result.exit_code == 0, result.output
    assert "written: 0" in result.output and "unchanged: 31" in result.output
    after = {p: p.read_bytes() for p in ingested_seeds.rglob("*") if p.is_file()}
    assert before == after


def test_edited_page_is_never_overwritten(tmp_path, seeds_dir):
    from click.testing import CliRunner

    from sitegen.cli import cli

    content = tmp_path / "content"
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(seeds_dir / "004_0d26c65f52efd78b.txt"), "--content", str(content)]).exit_code == 0
    page = next(content.rglob("*.md"))
    edited = page.read_text("utf-8").replace("title: 加强统筹协调，加快5G商用步伐", "title: 工信部部署加快5G商用")
    page.write_text(edited, "utf-8")
    result = runner.invoke(cli, ["ingest", str(seeds_dir / "004_0d26c65f52efd78b.txt"), "--content", str(content)])
    assert result.exit_code == 0
    assert "kept (edited by hand): 1" in result.output
    assert page.read_text("utf-8") == edited
    forced = runner.invoke(cli, ["ingest", str(seeds_dir / "004_0d26c65f52efd78b.txt"), "--content", str(content), "--force"])
    assert forced.exit_code == 0 and "updated: 1" in forced.output
    assert "加强统筹协调" in page.read_text("utf-8")
