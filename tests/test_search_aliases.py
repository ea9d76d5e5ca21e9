"""Alias-aware search on the built sample site, in headless Chromium with the shared evaluator.

Every name of an entity in the entity data (工信部, 工业和信息化部, 工业和信息化部门, …) must find
every page that names the entity by any of its names (not inside a longer name of another
entity: 上海合作组织 does not name 上海) and every page holding the query literally, both
measured on the evaluator's own page texts, and nothing else: set recall and precision 1.0.
A name nobody writes still finds nothing.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from sitegen.search.aliases import AliasExpander
from sitegen.site.load import site_entity_data
from tests.conftest import SHARED, need_shared

pytestmark = pytest.mark.browser
PFEVAL = SHARED / "tools" / "search-eval" / "pfeval.py"


def _pfeval_module():
    spec = importlib.util.spec_from_file_location("pfeval", PFEVAL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _names_any(text: str, names: set[str], every_name: set[str]) -> bool:
    """Whether ``text`` holds one of ``names`` other than inside a longer name of another
    entity in the data (上海 inside 上海合作组织 does not name the city)."""
    covered: set[int] = set()
    for longer in every_name - names:
        if any(name in longer for name in names):
            start = text.find(longer)
            while start >= 0:
                covered.update(range(start, start + len(longer)))
                start = text.find(longer, start + 1)
    for name in names:
        start = text.find(name)
        while start >= 0:
            if not covered.issuperset(range(start, start + len(name))):
                return True
            start = text.find(name, start + 1)
    return False


def test_expander_adds_the_names_at_each_sentence_end() -> None:
    expander = AliasExpander.from_aliases({"工信部": "工业和信息化部", "中华人民共和国工业和信息化部": "工业和信息化部",
                                           "湖南": "湖南省"})
    # at the end of each sentence, once per mention, so no word is cut (湖南省政府 stays whole)
    assert expander.expand("湖南省政府与工信部会谈，工业和信息化部表示支持。会议结束") == (
        "湖南省政府与工信部会谈，工业和信息化部表示支持（湖南、湖南省）（工信部、工业和信息化部、中华人民共和国工业和信息化部）"
        "（工信部、工业和信息化部、中华人民共和国工业和信息化部）。会议结束")
    # the longest name wins where names overlap
    assert expander.expand("中华人民共和国工业和信息化部") == (
        "中华人民共和国工业和信息化部（工信部、工业和信息化部、中华人民共和国工业和信息化部）")
    assert expander.expand("特斯拉来了。") == "特斯拉来了。"


def test_every_name_finds_every_page_of_its_entity(built_site: Path, site_root: Path, tmp_path: Path) -> None:
    need_shared()
    pfeval = _pfeval_module()
    texts = pfeval.site_texts(built_site, "/pagefind/")
    groups: dict[str, set[str]] = defaultdict(set)
    for alias, canonical in site_entity_data(site_root).aliases.items():
        groups[canonical].update((alias, canonical))
    every_name = {name for names in groups.values() for name in names}
    queries = []
    for names in groups.values():
        # a name finds what it finds literally, and every page naming its entity by any name
        named = {url for url, text in texts.items() if _names_any(text, names, every_name)}
        if named:  # an entity the sample site names: each of its names is a query
            queries += [{"q": name, "expected": sorted(named | pfeval.substring_truth(texts, name))}
                        for name in sorted(names)]
    assert {"工信部", "工业和信息化部", "国际电联"} <= {q["q"] for q in queries}
    queries.append({"q": "特斯拉", "expected": []})
    query_file = tmp_path / "aliases.json"
    query_file.write_text(json.dumps(queries, ensure_ascii=False), "utf-8")
    report = tmp_path / "report.json"
    depth = max(len(q["expected"]) for q in queries) + 20
    run = subprocess.run(
        [sys.executable, str(PFEVAL), str(built_site), str(query_file), "--host-page", "/search/", "--phrase-filter",
         "--k", str(depth), "--depth", str(depth), "--json", str(report), "--chromium", "/usr/bin/chromium"],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = {r["q"]: r for r in json.loads(report.read_text("utf-8"))["queries"]}
    for query in queries:
        result = results[query["q"]]
        found = {pfeval.norm_url(r["url"]) for r in result["top"]}
        expected = {pfeval.norm_url(u) for u in query["expected"]}
        assert found == expected, (query["q"], sorted(expected - found), sorted(found - expected))
    assert results["工信部"]["n"] >= 30  # every page naming 工业和信息化部, not the 9 that write 工信部
    assert results["特斯拉"]["n"] == 0

