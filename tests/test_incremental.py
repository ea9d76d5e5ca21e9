"""Incremental rebuilds (dependency recording) give exactly the site a fresh build gives.

A :class:`SiteSession` applies a sequence of real edits (body text, a title naming another
article's entity, a date moved to another week, a deleted article that takes an entity
below the page threshold, a new article, a template edit, a data-file edit) one at a time,
writing only what each update rendered; after every edit its folder must be
byte-identical to a fresh build of the same sources. Run on the sample site and on a site
of 300 real CCTV records (entity pages need two articles there, so pages appear and vanish).
The same edits, each followed by ``sitegen build`` into the same folder (a new process
each time: the state the last build left, the search shards it kept), must give what a
cold build gives, search index included.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sitegen.errors import Diagnostics
from sitegen.frontmatter import parse_page
from sitegen.output import MARKER, write_in_place, write_site
from sitegen.search import shards
from sitegen.site import group as group
from sitegen.site.build import BuildOptions, build_site
from sitegen.site.carry import key_digests, page_digest
from sitegen.site.group import Grouping, Touched
from sitegen.site.plan import DerivedValues, Planner
from sitegen.site.session import SiteSession
from tests.conftest import ProcessLog
from tests.test_search_index import urls_in_index_order

REPO = Path(__file__).resolve().parent.parent


def _files(folder: Path, search: bool = False) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and (search or "pagefind" not in p.parts)}


def _fresh_build(root: Path, out: Path) -> dict[str, bytes]:
    update = SiteSession(root).update(Diagnostics(echo=False))
    if out.exists():
        shutil.rmtree(out)
    write_site(update.outputs, out)
    return _files(out)


class Incremental:
    """A project kept across edits, writing its updates in place like ``sitegen serve``."""

    def __init__(self, root: Path, out: Path, hinted: bool = False) -> None:
        self.root, self.out = root, out
        self.project = SiteSession(root, track_digests=True)
        self.rendered: list[int] = []
        self.hinted = hinted  # tell the project which files changed, as the watcher does
        self._signatures = self._scan()

    def _scan(self) -> dict[str, tuple[int, int]]:
        return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in (self.root / "content").rglob("*.md")}

    def step(self) -> set[str]:
        now = self._scan()
        hints = {p for p in now.keys() | self._signatures.keys() if now.get(p) != self._signatures.get(p)}
        self._signatures = now
        update = self.project.update(Diagnostics(echo=False), hints=hints if self.hinted else None)
        if update.full:
            if self.out.exists():
                shutil.rmtree(self.out)
            write_site(update.outputs, self.out)
        else:
            write_in_place(self.out, update.outputs.files, update.removed)
        self.project.commit(update)
        self.rendered.append(update.rendered)
        return set(update.outputs.files) | set(update.removed)

    def check(self, tmp: Path) -> None:
        # the recorded dependencies and derived values are those a fresh plan would record
        grouping, saved = self.project.grouping, self.project.grouping.touched
        grouping.touched = Touched(full=True)
        try:
            fresh_plan = Planner(grouping, self.project.renderer.absolute)
            fresh_plan.update(set())
            fresh_values = DerivedValues()
            fresh_values.update(grouping)
        finally:
            grouping.touched = saved
        recorded = {r: p.deps for r, p in self.project.planner.by_relpath.items()}
        expected = {r: p.deps for r, p in fresh_plan.by_relpath.items()}
        assert recorded.keys() == expected.keys()
        stale = [r for r in expected if recorded[r] != expected[r]]
        assert not stale, stale[:5]
        assert self.project.derived.digests == fresh_values.digests
        # and the written site is the one a fresh build writes
        got, want = _files(self.out), _fresh_build(self.root, tmp / "fresh")
        assert sorted(got) == sorted(want), (sorted(set(got) ^ set(want)))[:10]
        differing = [p for p in want if got[p] != want[p]]
        assert not differing, differing[:10]


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def _front(path: Path) -> dict:
    return parse_page(path.read_text("utf-8"), path).front


def _edit_sequence(run: Incremental, tmp: Path) -> None:
    root = run.root
    pages = sorted((root / "content").rglob("*.md"))
    grouping = run.project.grouping
    # 1. a sentence added to one body: that article, its digest, its entities, lists
    first = pages[len(pages) // 2]
    first.write_text(first.read_text("utf-8").rstrip("\n") + "\n\n编辑补充的一句话。\n", "utf-8")
    changed = run.step()
    assert f"articles/{_front(first)['slug']}/index.html" in changed
    assert len(changed) < len(pages) / 2, len(changed)
    run.check(tmp)
    # 2. a title now naming an entity that another article names: links and related lists move
    donor = next(a for a in grouping.articles.values() if any(r.kind == "person" for r in a.entities))
    person = next(r.name for r in donor.entities if r.kind == "person")
    target = next(p for p in pages if p != root / donor.source_path and person not in p.read_text("utf-8"))
    _rewrite(target, "title: ", f"title: {person}考察调研：")
    run.step()
    run.check(tmp)
    # 3. a date moved to another year: the article leaves its digest, a new week appears
    moved = pages[1]
    date_line = next(line for line in moved.read_text("utf-8").splitlines() if line.startswith("date:"))
    _rewrite(moved, date_line, "date: 2019-03-06")
    run.step()
    run.check(tmp)
    # 3b. a date taken away (the page gives none): the article leaves its digest for the undated list
    undated = pages[2]
    original = undated.read_text("utf-8")
    date_line = next(line for line in original.splitlines() if line.startswith("date:"))
    undated.write_text(original.replace(date_line + "\n", "", 1).replace("date_uncertain: false", "date_uncertain: true"),
                       "utf-8")
    changed = run.step()
    assert "undated/index.html" in changed
    run.check(tmp)
    # 3c. and given back: the undated list goes away
    undated.write_text(original, "utf-8")
    changed = run.step()
    assert "undated/index.html" in changed and not (run.out / "undated").exists()
    run.check(tmp)
    # 4. an article deleted, taking an entity named by exactly the threshold down with it
    minimum = run.project.inputs.config.entity_min_articles
    key = next((k for k, members in sorted(grouping.members.items()) if len(members) == max(minimum, 2)), None)
    victim = root / next(iter(sorted(grouping.members[key]))) if key else pages[-1]
    victim_slug = _front(victim)["slug"]
    victim.unlink()
    changed = run.step()
    assert f"articles/{victim_slug}/index.html" in changed
    run.check(tmp)
    # 5. a new article
    (root / "content" / "articles" / "new-item.md").write_text(
        "---\ntitle: 新增的测试文章：北京市举行科技展览\ndate: 2025-02-20\nsource: 测试来源\n---\n\n"
        "北京市科学技术委员会在北京举办展览，工业和信息化部有关负责同志出席。\n", "utf-8")
    run.step()
    run.check(tmp)
    # 6. a template edit re-renders the pages using it
    _rewrite(root / "templates" / "article.html", '<article class="article"', '<article data-edited="1" class="article"')
    run.step()
    run.check(tmp)
    # 7. nothing changed: nothing rendered
    assert run.step() == set() and run.rendered[-1] == 0
    # 8. the entity data file (aliases) changes every page's entities: a full update
    data = root / "content" / "_data" / "entities.yaml"
    data.write_text(data.read_text("utf-8") + "\n# edited\n", "utf-8")
    run.step()
    run.check(tmp)


def _copy_site(source: Path, root: Path, cache: bool = True) -> None:
    for name in ("content", "templates", "static"):
        shutil.copytree(source / name, root / name)
    shutil.copy(source / "sitegen.yaml", root / "sitegen.yaml")
    if cache and (source / ".sitegen-cache").is_dir():
        shutil.copytree(source / ".sitegen-cache", root / ".sitegen-cache")


@pytest.mark.parametrize("hinted", [False, True], ids=["scan", "watcher-hints"])
def test_incremental_updates_match_fresh_builds_on_the_sample_site(site_root: Path, tmp_path: Path,
                                                                   hinted: bool) -> None:
    root = tmp_path / "site"
    _copy_site(site_root, root)
    run = Incremental(root, tmp_path / "out", hinted=hinted)
    run.step()
    run.check(tmp_path)
    _edit_sequence(run, tmp_path)


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory) -> Path:
    sys.path.insert(0, str(REPO))
    from benchmarks.corpus_site import CORPUS, make_site

    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: {CORPUS}")
    from click.testing import CliRunner

    from sitegen.cli import cli

    work = tmp_path_factory.mktemp("corpus")
    raw = make_site(work, 300, "title: 新闻联播要闻\nentity_min_articles: 2\nentity_recent: 5\n")
    shutil.copytree(REPO / "content" / "_data", work / "content" / "_data")
    result = CliRunner().invoke(cli, ["ingest", str(raw), "--content", str(work / "content")])
    assert result.exit_code == 0, result.output
    return work


@pytest.mark.parametrize("big_entity", [200, 3])
def test_incremental_updates_match_fresh_builds_on_real_corpus(corpus_site: Path, tmp_path: Path, monkeypatch,
                                                               big_entity: int) -> None:
    # with a low threshold most entities keep co-occurrence counts between updates
    monkeypatch.setattr(group, "BIG_ENTITY", big_entity)
    root = tmp_path / "site"
    _copy_site(corpus_site, root)
    run = Incremental(root, tmp_path / "out", hinted=big_entity != 200)
    run.step()
    assert run.rendered[0] > 400
    _edit_sequence(run, tmp_path)
    assert max(run.rendered[1:3]) < run.rendered[0] / 4, run.rendered


def test_an_old_articles_edit_renders_its_entitys_page_of_that_year_alone(corpus_site: Path, tmp_path: Path) -> None:
    """An entity's page lists its newest articles (5 here) and a page per year lists them
    all: a new title of an old article renders that year's page again, not the entity's
    page nor its other years' (a day's items touch the newest year only)."""
    root = tmp_path / "site"
    _copy_site(corpus_site, root)
    run = Incremental(root, tmp_path / "out")
    run.step()
    grouping = run.project.grouping
    key = max(grouping.entities, key=lambda k: (len(grouping.entities[k].articles), k))
    entity = grouping.entities[key]
    assert len(entity.articles) > 30  # more than the entity's feed lists too
    oldest = root / entity.articles[-1].source_path
    date_line = next(line for line in oldest.read_text("utf-8").splitlines() if line.startswith("date:"))
    _rewrite(oldest, date_line, "date: 2021-06-01")
    changed = run.step()
    folder = f"entities/{entity.kind}/{entity.slug}/"
    assert {folder + "index.html", folder + "2021/index.html", folder + "2022/index.html"} <= changed
    _rewrite(oldest, "title: ", "title: 改过的标题：")
    changed = run.step()
    assert folder + "2021/index.html" in changed
    assert not {folder + "index.html", folder + "2022/index.html", folder + "feed.xml"} & changed, sorted(changed)
    assert "改过的标题" in (run.out / folder / "2021" / "index.html").read_text("utf-8")
    run.check(tmp_path)
    # a month earlier, still its oldest: the entity's page shows when it first appeared
    _rewrite(oldest, "date: 2021-06-01", "date: 2021-05-01")
    changed = run.step()
    assert folder + "index.html" in changed and folder + "2022/index.html" not in changed
    assert "2021年5月1日" in (run.out / folder / "index.html").read_text("utf-8")
    run.check(tmp_path)


def test_a_failed_update_loses_no_change(site_root: Path, tmp_path: Path) -> None:
    """Two files saved together, one broken: nothing is taken in and the error names the
    broken file; after fixing only that file (the watcher reports just it), the other
    file's edit is in the site too."""
    from sitegen.errors import ContentError

    root = tmp_path / "site"
    _copy_site(site_root, root)
    run = Incremental(root, tmp_path / "out", hinted=True)
    run.step()
    good, bad = sorted((root / "content" / "articles").rglob("*.md"))[:2]
    _rewrite(good, "title: ", "title: 同时保存的修改：")
    original = bad.read_text("utf-8")
    bad.write_text(original.replace("date: ", "date: [unclosed", 1), "utf-8")
    with pytest.raises(ContentError) as failure:
        run.step()
    assert str(bad) in str(failure.value)
    bad.write_text(original, "utf-8")
    run.step()
    slug = _front(good)["slug"]
    assert "同时保存的修改" in (run.out / "articles" / slug / "index.html").read_text("utf-8")
    run.check(tmp_path)


def test_a_page_shows_nothing_its_dependencies_do_not_declare(site_root: Path) -> None:
    """Page contexts read the grouping when the page is rendered, so a template could show
    data its page does not declare; only an edit sequence that happened to touch it would
    notice. Here every page is rendered again with every article it does not declare changed
    (each title and body marked; the card of an article it lists but whose body it does not
    declare keeps its body unmarked; a page that declares ``ALL_CONTENT`` declares every card):
    its bytes must not change. Where a page's declared
    derived values change with the marks (a tie broken by a title), it is not judged."""
    import dataclasses

    from sitegen.site import keys

    session = SiteSession(site_root)
    session.update(Diagnostics(echo=False))
    grouping, planner = session.grouping, session.planner
    articles = dict(grouping.articles)
    undeclared_reads = []
    checked = 0
    for relpath, plan in sorted(planner.by_relpath.items()):
        if plan.template is None:
            continue
        before = session.render(plan)
        marked = {}
        every_card = keys.ALL_CONTENT in plan.deps  # changes with any article's card
        for path, article in articles.items():
            card, content = every_card or keys.card(path) in plan.deps, keys.content(path) in plan.deps
            if card and content:
                continue
            changes = {}
            if not card and not content:
                changes["title"] = article.title + "（改）"
                changes["summary"] = article.summary + "（改）"
            if not content:
                changes["body_html"] = article.body_html + "<p>改</p>"
            marked[path] = dataclasses.replace(article, **changes)
        other = Grouping(session.inputs.config, session.inputs.catalog)
        other.update({path: marked.get(path, article) for path, article in articles.items()})
        values = DerivedValues()
        values.update(other)
        declared = {key for key in plan.deps if key in session.derived.digests}
        if any(values.digests.get(key) != session.derived.digests[key] for key in declared):
            continue
        replanned = Planner(other, session.renderer.absolute)
        replanned.update(set())
        if relpath not in replanned.by_relpath:
            continue
        checked += 1
        if session.render(replanned.by_relpath[relpath], other) != before:
            undeclared_reads.append(relpath)
    assert checked > 100
    assert undeclared_reads == []


class Rebuilt:
    """The same edits as :class:`Incremental`, each followed by ``sitegen build`` into the
    same folder: every build after the first is a new session that starts from the state
    the previous build left (render what differs, index the shards that changed)."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root, self.out = root, out
        self.rendered: list[int] = []
        self.kept: list[int] = []
        self.indexed: list[str] = []
        self._project: SiteSession | None = None

    @property
    def project(self) -> SiteSession:
        """A session over the current sources (what the edits read to choose a page)."""
        if self._project is None:
            self._project = SiteSession(self.root)
            self._project.update(Diagnostics(echo=False))
        return self._project

    def step(self) -> set[str]:
        before = _files(self.out, search=True) if self.out.exists() else {}
        result = build_site(BuildOptions(root=self.root, out=self.out), Diagnostics(echo=False))
        self._project = None
        after = _files(self.out, search=True)
        self.rendered.append(result.files - result.kept if "up to date" not in result.search else 0)
        self.kept.append(result.kept)
        self.indexed.append(result.search)
        return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p) and "pagefind" not in p}

    def check(self, tmp: Path) -> None:
        fresh = tmp / "cold"
        if fresh.exists():
            shutil.rmtree(fresh)
        _copy_site(self.root, fresh, cache=False)
        build_site(BuildOptions(root=fresh, out=fresh / "public"), Diagnostics(echo=False))
        got, want = _files(self.out, search=True), _files(fresh / "public", search=True)
        assert sorted(got) == sorted(want), (sorted(set(got) ^ set(want)))[:10]
        differing = [p for p in want if got[p] != want[p]]
        assert not differing, differing[:10]
        # the record the next build starts from (every dependency's digest, made from the
        # kept model's and what changed) is the one a fresh session makes of the sources
        made, session = _record(self.root, self.out), self.project
        assert made["values"] == key_digests(session.grouping, session.derived.digests)
        assert made["pages"] == {r: page_digest(p.template, p.deps) for r, p in session.planner.by_relpath.items()}


def _record(root: Path, out: Path) -> dict[str, Any]:
    """What the last build into ``out`` recorded for the next (:class:`BuiltState`, as saved)."""
    from sitegen.site import build as build_module

    return json.loads(build_module._state_path(BuildOptions(root=root, out=out)).read_text("utf-8"))


def test_builds_after_edits_match_cold_builds_search_included(site_root: Path, tmp_path: Path, monkeypatch) -> None:
    from sitegen.site import load

    # shards of a few dozen pages, so that an edit leaves most of them as they were; the
    # kept model's pages in pickles of four, so that its builds copy most of them
    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=10, spread=20, most=60))
    monkeypatch.setattr(load, "_PAGES_PER_PICKLE", 4)
    root = tmp_path / "site"
    _copy_site(site_root, root)
    run = Rebuilt(root, root / "public")
    run.step()
    _edit_sequence(run, tmp_path)  # type: ignore[arg-type]
    # an edit renders a few pages and indexes the shards holding them again
    assert run.rendered[1] < run.rendered[0] / 10, run.rendered
    assert "indexed again" in run.indexed[1], run.indexed
    # the entity data changes every page's entities: all of it again
    assert "indexed again" not in run.indexed[-1] and run.kept[-1] == 0, (run.indexed, run.kept)
    # a static file added, then taken away again
    extra = root / "static" / "extra-notice.txt"
    extra.write_text("本站说明\n", "utf-8")
    assert any(p.startswith("static/extra-notice.") for p in run.step())
    run.check(tmp_path)
    extra.unlink()
    assert any(p.startswith("static/extra-notice.") for p in run.step())
    assert not list((root / "public" / "static").glob("extra-notice.*"))
    run.check(tmp_path)


def test_a_build_without_the_last_output_still_uses_the_kept_search_shards(site_root: Path, tmp_path: Path,
                                                                          monkeypatch) -> None:
    """CI keeps .sitegen-cache/ but not public/: every page is rendered again, but Pagefind
    runs only on the shards whose pages changed, and the site is what a cold build makes."""
    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=10, spread=20, most=60))
    root = tmp_path / "site"
    _copy_site(site_root, root, cache=False)  # (a copied cache's records would be this site's)
    first = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    assert "indexed again" not in first.search
    shutil.rmtree(root / "public")
    page = sorted((root / "content").rglob("*.md"))[3]
    page.write_text(page.read_text("utf-8").rstrip("\n") + "\n\n编辑补充的一句话。\n", "utf-8")
    again = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    assert again.kept == 0 and "indexed again" in again.search, again.summary()
    indexed = int(again.search.split("(")[1].split()[0])
    assert 0 < indexed < 80, again.search
    cold = tmp_path / "cold"
    _copy_site(root, cold, cache=False)
    build_site(BuildOptions(root=cold, out=cold / "public"), Diagnostics(echo=False))
    assert _files(root / "public", search=True) == _files(cold / "public", search=True)


def test_pages_whose_files_are_new_but_bytes_the_same_are_not_parsed_again(site_root: Path, tmp_path: Path,
                                                                          monkeypatch) -> None:
    """Every page written again with the same bytes (a fresh checkout, a copy): the next
    build knows each by its bytes, parses none and renders nothing new."""
    from sitegen.site import load

    root = tmp_path / "site"
    _copy_site(site_root, root)
    first = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    made = _inodes(root / "public")
    pages = sorted((root / "content").rglob("*.md"))
    for page in pages:
        data = page.read_bytes()
        page.unlink()
        page.write_bytes(data)  # another inode and time
    parsed: list[Path] = []
    parse = load.parse_page_bytes
    monkeypatch.setattr(load, "parse_page_bytes",
                        lambda path, *rest, **named: parsed.append(path) or parse(path, *rest, **named))
    again = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    assert len(pages) > 20 and parsed == [], parsed
    assert again.files == first.files, again.summary()
    now = _inodes(root / "public")
    # every file kept as the last build made it, but the marker every build writes
    assert made.keys() == now.keys() and [r for r in made if made[r] != now[r]] == [MARKER], again.summary()


def _inodes(folder: Path) -> dict[str, int]:
    """The inode of each file under ``folder`` (a file a build kept keeps its inode)."""
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def _checkout_with_restored_cache(root: Path, tmp_path: Path, into: Path | None = None) -> None:
    """What a CI run starts from after a build in ``root``: the sources checked out afresh
    (every file new: other times, other inodes) and ``public/`` and ``.sitegen-cache/``
    restored from an archive that keeps whole seconds of the files' times only; ``into``
    another folder than the last run's (``root`` is then removed)."""
    from benchmarks.build_corpus import checkout_as_ci, copy_sources

    archive = tmp_path / "cache.tar"
    subprocess.run(["tar", "--format=gnu", "-C", str(root), "-cf", str(archive), "public", ".sitegen-cache"],
                   check=True)
    if into is None:
        checkout_as_ci(root, archive)
        return
    copy_sources(root, into)
    shutil.rmtree(root)
    subprocess.run(["tar", "-C", str(into), "-xf", str(archive)], check=True)


@pytest.mark.parametrize("where", ["same folder", "another folder"])
def test_a_ci_build_from_a_restored_output_and_cache_renders_only_what_changed(site_root: Path, tmp_path: Path,
                                                                              monkeypatch, where: str) -> None:
    """CI keeps ``public/`` and ``.sitegen-cache/`` and checks the sources out afresh, in the
    last run's folder or in another (GitLab's concurrent builds, Jenkins' ``@2`` workspaces;
    a site moved): the build knows the output by the bytes it recorded and the pages by
    theirs (and by their paths from the site's root), parses only the page edited, renders
    only what that edit changed, and makes what a cold build makes."""
    from sitegen.site import load

    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=10, spread=20, most=60))
    last = tmp_path / "runner-0" / "site"
    _copy_site(site_root, last)
    first = build_site(BuildOptions(root=last, out=last / "public"), Diagnostics(echo=False))
    root = last if where == "same folder" else tmp_path / "runner-1" / "site"
    _checkout_with_restored_cache(last, tmp_path, None if root == last else root)
    page = sorted((root / "content").rglob("*.md"))[3]
    page.write_text(page.read_text("utf-8").rstrip("\n") + "\n\n编辑补充的一句话。\n", "utf-8")
    parsed: list[Path] = []
    parse = load.parse_page_bytes
    monkeypatch.setattr(load, "parse_page_bytes",
                        lambda path, *rest, **named: parsed.append(path) or parse(path, *rest, **named))
    again = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    assert again.files == first.files and again.kept > again.files * 0.9, again.summary()
    assert parsed == [page], parsed
    assert "indexed again" in again.search, again.search
    monkeypatch.setattr(load, "parse_page_bytes", parse)
    cold = tmp_path / "cold"
    _copy_site(root, cold, cache=False)
    build_site(BuildOptions(root=cold, out=cold / "public"), Diagnostics(echo=False))
    assert _files(root / "public", search=True) == _files(cold / "public", search=True)


@pytest.mark.parametrize("batch", [None, 8], ids=["one process", "forked batches"])
@pytest.mark.parametrize("change", ["none", "other bytes", "a link"])
def test_a_restored_output_with_another_file_is_built_again_whole(site_root: Path, tmp_path: Path, monkeypatch,
                                                                  change: str, batch: int | None) -> None:
    """A restored output file of the recorded size but other bytes, or a link to a file of
    its bytes, is not the last build's: nothing of that output is trusted, and the build
    makes the whole site again; an output restored as it was is trusted. Many files are
    compared with the record by forked workers, a batch each, whichever batch holds the
    file that differs."""
    import sitegen.parallel as parallel
    import sitegen.site.build as build_module

    root = tmp_path / "site"
    _copy_site(site_root, root)
    build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    _checkout_with_restored_cache(root, tmp_path)
    home = root / "public" / "index.html"
    if change == "other bytes":
        home.write_bytes(home.read_bytes().replace(b"<title>", b"<TITLE>", 1))
    elif change == "a link":
        (tmp_path / "elsewhere.html").write_bytes(home.read_bytes())
        home.unlink()
        home.symlink_to(tmp_path / "elsewhere.html")
    forked: list[int] = []
    if batch is not None:
        monkeypatch.setattr(build_module, "_FILES_PER_BATCH", batch)
        real_all_same_bytes, real_forked_map = build_module._all_same_bytes, parallel.forked_map

        def forked_map(function, shared, tasks, workers):
            forked.append(workers)
            return real_forked_map(function, shared, tasks, workers)

        def all_same_bytes(out, files):
            # two workers even where another thread runs (the suite's servers): a batch's
            # worker takes no lock, it reads files and hashes them
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(parallel, "fork_workers", lambda tasks, at_most=4: 2 if tasks > 1 else 1)
                patch.setattr(parallel, "forked_map", forked_map)
                return real_all_same_bytes(out, files)

        monkeypatch.setattr(build_module, "_all_same_bytes", all_same_bytes)
    again = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    assert forked == ([2] if batch is not None else []), forked
    if change == "none":
        assert again.kept > again.files * 0.9, again.summary()
        return
    assert again.kept == 0, again.summary()
    cold = tmp_path / "cold"
    _copy_site(root, cold, cache=False)
    build_site(BuildOptions(root=cold, out=cold / "public"), Diagnostics(echo=False))
    assert _files(root / "public", search=True) == _files(cold / "public", search=True)


def test_a_build_after_another_decodes_only_the_word_index_of_changed_shards(site_root: Path, tmp_path: Path,
                                                                           monkeypatch) -> None:
    """Each shard's word index is decoded once and kept beside its bundle: the next build
    merges from the kept ones, decodes only the pages an edit changed (a shard patched with
    them takes its word index from the patch), and publishes what a cold build does."""
    from sitegen.search import merge

    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=10, spread=20, most=60))
    root = tmp_path / "site"
    _copy_site(site_root, root, cache=False)  # (the sample site's cache may hold other builds' shards)
    build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    [folder] = (root / ".sitegen-cache").glob("*.shards")
    first = set(folder.glob("*.shard"))
    assert len(first) > 5 and {p.with_suffix(".shard") for p in folder.glob("*.words")} == first
    decoded: list[int] = []
    read_words = merge._read_words
    monkeypatch.setattr(merge, "_read_words", lambda shard: decoded.append(len(shard.pages)) or read_words(shard))
    page = sorted((root / "content").rglob("*.md"))[3]
    page.write_text(page.read_text("utf-8").rstrip("\n") + "\n\n编辑补充的一句话。\n", "utf-8")
    again = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    assert "indexed again" in again.search, again.search
    changed = set(folder.glob("*.shard")) - first
    assert 0 < len(changed) < len(first) / 2, (len(changed), len(first))
    # decoded: the run over the pages indexed again; no kept shard, nor a changed one (its
    # bundle patched from a kept one, its word index made from the kept one's)
    indexed = int(again.search.split("(")[1].split()[0])
    assert decoded == [indexed], (decoded, indexed)
    assert {p.with_suffix(".shard") for p in folder.glob("*.words")} == set(folder.glob("*.shard"))
    cold = tmp_path / "cold"
    _copy_site(root, cold, cache=False)
    build_site(BuildOptions(root=cold, out=cold / "public"), Diagnostics(echo=False))
    assert _files(root / "public", search=True) == _files(cold / "public", search=True)


def test_pages_are_segmented_once_where_they_are_rendered(site_root: Path, tmp_path: Path, monkeypatch) -> None:
    """A build segments each searchable page it renders there (the index stage of a cold
    build reads no page back and segments nothing), and after an edit only the pages whose
    index entry changed: those the last build indexed as they are are not segmented."""
    from sitegen import search
    from sitegen.site import build as build_module

    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=10, spread=20, most=60))
    root = tmp_path / "site"
    _copy_site(site_root, root, cache=False)
    log = ProcessLog(tmp_path / "segmented.log")  # a cold build segments in a process it forks
    segmented = log.lines

    def logged_segment(part: str, *args: object) -> str:
        log.append(str(len(part)))
        return segment(part, *args)

    read_back: list[str] = []
    segment, read_staged = search.segment_html, build_module._read_staged
    monkeypatch.setattr(search, "segment_html", logged_segment)
    monkeypatch.setattr(build_module, "_read_staged", lambda folder, relpath: read_back.append(relpath) or
                        read_staged(folder, relpath))
    cold = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    state = json.loads(next((root / ".sitegen-cache").glob("*.state.json")).read_text("utf-8"))
    assert read_back == [] and len(segmented()) == len(state["searched"]) > 100, (len(read_back), len(segmented()))
    assert cold.search == f"search index: {len(segmented())} pages"
    log.clear()
    page = sorted((root / "content").rglob("*.md"))[3]  # its title: pages whose index entries do not change show it
    page.write_text(page.read_text("utf-8").replace("\ntitle: ", "\ntitle: 更正：", 1), "utf-8")
    written: list[str] = []
    monkeypatch.setattr(build_module.StagedSite, "write", lambda self, relpath, data, write=build_module.StagedSite.write:
                        written.append(relpath) or write(self, relpath, data))
    again = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    after = json.loads(next((root / ".sitegen-cache").glob("*.state.json")).read_text("utf-8"))
    changed = [relpath for relpath, entry in after["searched"].items() if state["searched"].get(relpath) != entry]
    assert 0 < len(segmented()) == len(changed) < len(written) / 2, (len(segmented()), changed, len(written))
    assert read_back == [] and again.search.endswith(f"({len(changed)} indexed again)"), again.search


def test_a_released_session_frees_its_model_without_the_garbage_collector(site_root):
    """A build drops its session's model before the search merge: once released, the
    planner, the grouping and the articles are freed by reference counting, at once (a plan's
    context reads the grouping the planner holds: a cycle that only a collection visiting
    every object of the model would free, 0.8 s at 10,000 items)."""
    import gc
    import weakref

    session = SiteSession(site_root)
    update = session.update(Diagnostics(echo=False))
    assert update.articles > 20
    planner, grouping = weakref.ref(session.planner), weakref.ref(session.grouping)
    gc.collect()
    gc.disable()
    try:
        session.release()
        del session, update
        assert planner() is None and grouping() is None
    finally:
        gc.enable()


def test_a_build_keeps_its_model_from_the_collector_and_leaves_nothing_frozen(site_root: Path, tmp_path: Path,
                                                                             monkeypatch) -> None:
    """A build after an edit holds the site's model (every article, the grouping, the plans)
    outside the collector's generations while it renders (a full collection would visit all
    of it), and leaves nothing frozen when it ends, whether it succeeds or fails."""
    import gc

    from sitegen.errors import TemplateError
    from sitegen.site.carry import KeptModel

    root = tmp_path / "site"
    _copy_site(site_root, root, cache=False)
    build_site(BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
    frozen: list[int] = []
    save = KeptModel.save
    monkeypatch.setattr(KeptModel, "save", lambda model, path: frozen.append(gc.get_freeze_count()) or save(model, path))
    page = sorted((root / "content").rglob("*.md"))[3]
    page.write_text(page.read_text("utf-8").rstrip("\n") + "\n\n编辑补充的一句话。\n", "utf-8")
    again = build_site(BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
    assert again.kept > 0, again.summary()  # a build after another: the model was read back
    assert gc.get_freeze_count() == 0
    # the model's objects: at least one per article and per page planned
    assert frozen and frozen[0] > again.files, (frozen, again.files)
    template = root / "templates" / "article.html"
    _rewrite(template, "{% block title %}", "{% block title %}{{ no_such_value.attribute }}")
    with pytest.raises(TemplateError):
        build_site(BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
    assert gc.get_freeze_count() == 0


def _answers_of(monkeypatch, module: Any, name: str) -> list[Any]:
    """What ``module.name`` answers from now on, each call's answer in order (in the list
    returned)."""
    answers: list[Any] = []
    function = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *args: answers.append(function(*args)) or answers[-1])
    return answers


def _kept_pages(root: Path) -> dict[str, tuple[object, ...]]:
    """The pages of the model the last build into ``root/public`` kept: each path's page,
    warnings and article (not the file signature: a copied site's files differ in it)."""
    import pickle

    from sitegen.site import build as build_module
    from sitegen.site.load import read_stored_pages

    with open(build_module._model_path(BuildOptions(root=root, out=root / "public")), "rb") as stream:
        pickle.load(stream)  # format, build, code, inputs
        pages = read_stored_pages(stream)
    return {path: (stored.page, stored.warnings, stored.article) for path, stored in pages.stored.items()}


def _kept_plans(root: Path) -> dict[str, list[str]]:
    """The plans of the model the last build into ``root/public`` kept, each as the
    ``repr`` of its fields (its dependencies in order)."""
    from sitegen.site import build as build_module
    from sitegen.site.carry import KeptModel

    options = BuildOptions(root=root, out=root / "public")
    with open(build_module._model_path(options), "rb") as stream:
        _, made_by, made_with, _ = pickle.load(stream)
    kept = KeptModel.load(build_module._model_path(options), made_by, made_with)
    assert kept is not None
    return {name: [repr((plan.relpath, plan.template, plan.source, sorted(plan.deps), plan.context.function.__name__,
                         plan.context.args)) for plan in plans]
            for name, plans in kept.plans.items()}


def test_a_build_copies_the_kept_pickles_of_the_pages_and_plans_it_did_not_make_again(site_root: Path,
                                                                                     tmp_path: Path,
                                                                                     monkeypatch) -> None:
    """The model a build keeps holds the pages, and the pages' plans, in pickles of a few
    each; a build after an edit copies from the last model the pickles of the pages it did
    not read again and of the plan entries it did not plan again, pickles the others again,
    and keeps the pages and plans a cold build keeps."""
    from sitegen.site import carry, load

    monkeypatch.setattr(load, "_PAGES_PER_PICKLE", 4)
    monkeypatch.setattr(carry, "_PLANS_PER_PICKLE", 8)
    pages_copied = _answers_of(monkeypatch, load, "_holds")
    plans_copied = _answers_of(monkeypatch, carry, "_same_entries")
    root = tmp_path / "site"
    _copy_site(site_root, root, cache=False)
    build_site(BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
    assert pages_copied == plans_copied == []  # nothing read from a model: every pickle made
    page = sorted((root / "content").rglob("*.md"))[9]
    _rewrite(page, "\nslug: ", "\nslug: renamed-")  # its pages move: their plans are not the kept ones
    build_site(BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
    assert len(pages_copied) > 5 and pages_copied.count(False) == 1, pages_copied  # the edited page's pickle alone
    assert len(plans_copied) > 20 and 0 < plans_copied.count(False) < len(plans_copied) / 3, plans_copied
    cold = tmp_path / "cold"
    _copy_site(root, cold, cache=False)
    build_site(BuildOptions(root=cold, out=cold / "public", search=False), Diagnostics(echo=False))
    assert _kept_pages(root) == _kept_pages(cold)
    assert _kept_plans(root) == _kept_plans(cold)
    assert any("renamed-" in plan for plans in _kept_plans(root).values() for plan in plans)


def test_a_build_plans_only_the_pages_an_edit_reaches(site_root: Path, tmp_path: Path, monkeypatch) -> None:
    """The model a build keeps holds its pages' plans: the next build plans again only the
    groups its changes touch (a new title: that article, the articles listing it as related,
    its week, its entities) and the site-wide pages, and makes the site a cold build makes."""
    log = ProcessLog(tmp_path / "planned.log")  # a cold build plans in a process it forks
    original = Planner._replace

    def noting(self, name, plans, hit, changed):
        if plans is not None:
            log.append(name)
        return original(self, name, plans, hit, changed)

    monkeypatch.setattr(Planner, "_replace", noting)
    root = tmp_path / "site"
    _copy_site(site_root, root, cache=False)
    build_site(BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
    everything = len(log.lines())
    assert everything > 200  # 31 articles, 11 digests, 169 entities, the site-wide pages
    page = sorted((root / "content").rglob("*.md"))[9]
    _rewrite(page, "title: ", "title: 改过的标题：")
    log.clear()
    result = build_site(BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
    planned = log.lines()
    assert f"article:{page.relative_to(root).as_posix()}" in planned and "site" in planned
    assert len(planned) < everything / 4, planned
    assert result.kept > result.files / 2, result.summary()
    cold = tmp_path / "cold"
    _copy_site(root, cold, cache=False)
    made = build_site(BuildOptions(root=cold, out=cold / "public", search=False), Diagnostics(echo=False))
    assert _files(root / "public") == _files(cold / "public")
    assert result.files == made.files == len(_files(cold / "public")) - 1, (result.files, made.files)  # but the marker
    fresh = SiteSession(root)  # the record of every page's plan: a fresh plan's
    fresh.update(Diagnostics(echo=False))
    assert _record(root, root / "public")["pages"] == {r: page_digest(p.template, p.deps)
                                                       for r, p in fresh.planner.by_relpath.items()}


def test_a_days_items_are_indexed_last_and_merged_from_the_last_merge(corpus_site: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    """The next day's items of the real corpus ingested into a built site: their pages (the
    articles, the entities that now have a page) are numbered after every page there was
    (by the day each page first exists), so the shards before them keep their pages'
    numbers and the build merges the index from the last merge (no whole merge: in path
    order a new article gave every entity page another number); the site is what a cold
    build makes."""
    from click.testing import CliRunner

    from benchmarks.corpus_site import next_day_records
    from sitegen.cli import cli
    from sitegen.search import merge

    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=40, spread=60, most=150))
    root = tmp_path / "site"
    _copy_site(corpus_site, root, cache=False)
    build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    numbered_before = urls_in_index_order(root / "public" / "pagefind")
    day = root / "raw-next-day"
    day.mkdir()
    records = next_day_records(300)
    assert len(records) >= 5
    (day / "next-day.jsonl").write_text("\n".join(records) + "\n", "utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(day), "--content", str(root / "content")])
    assert result.exit_code == 0, result.output
    from_last: list[tuple[int, int]] = []  # the words of a merge from the last one merged again:
    updated_words = merge._updated_words  # joined from every shard, joined onto their last entries

    def noted(earlier: Any, changes: Any, *args: Any) -> Any:
        from_last.append((len(changes.joined), len(changes.appended)))
        return updated_words(earlier, changes, *args)

    with monkeypatch.context() as patched:
        patched.setattr(merge, "_updated_words", noted)
        again = build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    assert "indexed again" in again.search, again.search
    assert len(from_last) == 1 and from_last[0][1] > 0, from_last  # the day's words appended
    numbered = urls_in_index_order(root / "public" / "pagefind")
    new = numbered[len(numbered_before):]
    assert numbered[:len(numbered_before)] == numbered_before and len(new) >= len(records), len(new)
    assert sum(url.startswith("/articles/") for url in new) >= len(records) - 1  # (one may be a duplicate)
    assert any(url.startswith("/entities/") for url in new), new
    cold = tmp_path / "cold"
    _copy_site(root, cold, cache=False)
    build_site(BuildOptions(root=cold, out=cold / "public"), Diagnostics(echo=False))
    assert _files(root / "public", search=True) == _files(cold / "public", search=True)


def test_a_forced_build_indexes_and_merges_every_page_again(site_root: Path, tmp_path: Path, monkeypatch) -> None:
    """``--force`` renders and indexes every page: no kept shard is taken, and the merge does
    not start from the last one's record (a cache one suspects is not trusted); the site is
    the one the build before made."""
    from sitegen.search import merge

    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=10, spread=20, most=60))
    root = tmp_path / "site"
    _copy_site(site_root, root, cache=False)
    build_site(BuildOptions(root=root, out=root / "public"), Diagnostics(echo=False))
    before = _files(root / "public", search=True)
    with monkeypatch.context() as patched:
        patched.setattr(merge, "_updated_words", lambda *args: pytest.fail("merged from the last merge"))
        forced = build_site(BuildOptions(root=root, out=root / "public", force=True), Diagnostics(echo=False))
    assert "indexed again" not in forced.search, forced.search
    assert _files(root / "public", search=True) == before


@pytest.fixture(scope="module")
def sample_grouping_inputs(site_root: Path) -> tuple[Any, list[Any]]:
    """The sample site's settings and entity data, and twelve of its articles."""
    session = SiteSession(site_root)
    session.update(Diagnostics(echo=False))
    articles = [session.grouping.articles[path] for path in sorted(session.grouping.articles)[:12]]
    return session.inputs, articles


_SAME_PINYIN = ["王凯", "王恺", "汪凯", None]  # the first three are all wang-kai


@settings(max_examples=60, deadline=None)
@example(steps=[(0, 0), (1, 1), (2, 2), (1, 3), (0, 3), (3, 1)])
@given(steps=st.lists(st.tuples(st.integers(0, 11), st.integers(0, len(_SAME_PINYIN) - 1)), min_size=1, max_size=10))
def test_entity_slugs_kept_by_updates_are_a_fresh_grouping_s(sample_grouping_inputs: Any,
                                                             steps: list[tuple[int, int]]) -> None:
    """Names that read alike share a slug but for a hash of each name while more than one
    has a page (王凯 and 王恺: ``wang-kai-1a2b3c``); as articles come to name them and stop
    (one article a step), a grouping kept up to date gives every entity the slug a grouping
    made afresh from the same articles gives it."""
    import dataclasses

    from sitegen.model import EntityRef

    inputs, base = sample_grouping_inputs
    grouping = Grouping(inputs.config, inputs.catalog)
    articles = {str(article.source_path): article for article in base}
    grouping.update(articles)
    for number, name in steps:
        article = base[number]
        refs = tuple(ref for ref in article.entities if ref.kind != "person")
        if _SAME_PINYIN[name] is not None:
            refs += (EntityRef("person", _SAME_PINYIN[name]),)
        articles[str(article.source_path)] = changed = dataclasses.replace(article, entities=refs)
        grouping.update({str(article.source_path): changed})
        assert not grouping.touched.full
        fresh = Grouping(inputs.config, inputs.catalog)
        fresh.update(articles)
        assert grouping.slugs == fresh.slugs
