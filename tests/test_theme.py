"""The theme inside the package, a site's own templates/ and static/ over it, `sitegen new`.

A site needs no templates/ or static/: it builds with sitegen's theme (the repository's
top-level folders, shipped in the wheel). A file of its own overrides the theme's file of the
same name and changes only the pages that use it, in a build and incrementally (the oracle:
incremental equals fresh).
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.config import SiteConfig
from sitegen.errors import Diagnostics, TemplateError
from sitegen.new_site import SCAFFOLD_FILES
from sitegen.serve.watch import _is_relevant
from sitegen.site.session import SiteSession
from sitegen.theme import default_theme, theme_folders
from tests.conftest import REPO, build, folder_files
from tests.test_incremental import Incremental


def _site_without_theme_files(source: Path, root: Path) -> Path:
    """The sample site with no templates/ or static/ of its own."""
    shutil.copytree(source / "content", root / "content")
    shutil.copy(source / "sitegen.yaml", root / "sitegen.yaml")
    return root


def test_the_theme_is_the_repositorys_templates_and_static() -> None:
    theme = default_theme()
    assert (theme / "templates" / "base.html").read_bytes() == (REPO / "templates" / "base.html").read_bytes()
    assert (theme / "static" / "style.css").read_bytes() == (REPO / "static" / "style.css").read_bytes()


def test_a_site_without_templates_builds_the_same_site(site_root: Path, built_site: Path, tmp_path: Path) -> None:
    root = _site_without_theme_files(site_root, tmp_path / "bare")
    assert theme_folders(root).templates == (default_theme() / "templates",)
    result = build(root, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert folder_files(tmp_path / "out") == folder_files(built_site)  # the sample site's templates are the theme's


def test_an_override_changes_only_the_pages_using_it(site_root: Path, built_site: Path, tmp_path: Path) -> None:
    root = _site_without_theme_files(site_root, tmp_path / "site")
    theme_entity = (default_theme() / "templates" / "entity.html").read_text("utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "entity.html").write_text(
        theme_entity.replace("{% block main %}", "{% block main %}<!-- 本站自己的实体页 -->", 1), "utf-8")
    assert "本站自己的实体页" in (root / "templates" / "entity.html").read_text("utf-8")
    result = build(root, tmp_path / "out")
    assert result.exit_code == 0, result.output
    before, after = folder_files(built_site), folder_files(tmp_path / "out")
    assert before.keys() == after.keys()
    changed = {path for path in before if before[path] != after[path]}
    entity_pages = {p for p in before if p.startswith("entities/") and p.count("/") == 3 and p.endswith("/index.html")}
    assert changed == entity_pages and len(entity_pages) == 169  # the search index included: identical
    assert all(b"<!-- \xe6\x9c\xac\xe7\xab\x99" in after[p] for p in entity_pages)


def test_incremental_updates_follow_overrides_coming_and_going(site_root: Path, tmp_path: Path) -> None:
    root = _site_without_theme_files(site_root, tmp_path / "site")
    run = Incremental(root, tmp_path / "out")
    run.step()
    run.check(tmp_path)
    theme = default_theme() / "templates"
    # an override of a template every page extends appears (templates/ did not exist)
    (root / "templates").mkdir()
    base = (theme / "base.html").read_text("utf-8")
    (root / "templates" / "base.html").write_text(base.replace("<body", '<body data-site="own"', 1), "utf-8")
    changed = run.step()
    assert "index.html" in changed and "articles/20250221-044f7e/index.html" in changed
    run.check(tmp_path)
    # an override of an included macro file reaches the pages importing it, and only those
    macros = (theme / "_macros.html").read_text("utf-8")
    (root / "templates" / "_macros.html").write_text(macros + "\n{# own macros #}\n", "utf-8")
    run.step()
    run.check(tmp_path)
    (root / "templates" / "_macros.html").write_text(macros.replace("</a>", "</a><!-- own -->", 1), "utf-8")
    run.step()
    run.check(tmp_path)
    # the overrides removed: the theme's files again
    shutil.rmtree(root / "templates")
    changed = run.step()
    assert "index.html" in changed
    run.check(tmp_path)
    # a static file of the site's own replaces the theme's (every page links the new hash)
    (root / "static").mkdir()
    (root / "static" / "style.css").write_text((default_theme() / "static" / "style.css").read_text("utf-8")
                                               + "\n.own { color: #333; }\n", "utf-8")
    run.step()
    run.check(tmp_path)
    assert any(".own" in p.read_text("utf-8") for p in (tmp_path / "out" / "static").glob("style.*.css"))


def test_a_template_error_names_the_file_it_is_in(site_root: Path, tmp_path: Path) -> None:
    root = _site_without_theme_files(site_root, tmp_path / "site")
    (root / "templates").mkdir()
    (root / "templates" / "base.html").write_text("<!doctype html>\n{{ nothing_here.at_all }}\n{% block main %}{% endblock %}\n",
                                                    "utf-8")
    with pytest.raises(TemplateError) as raised:
        SiteSession(root).update(Diagnostics(echo=False))
    assert str(raised.value).startswith(f"{root / 'templates' / 'base.html'}:2:")
    (root / "templates" / "base.html").write_text("{% block main %\n", "utf-8")
    result = build(root, tmp_path / "out")
    assert result.exit_code == 1
    assert f"{root / 'templates' / 'base.html'}:1:" in result.output and "Traceback" not in result.output


def test_the_preview_watches_the_sites_files_and_the_theme(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    theme = theme_folders(root).all
    assert _is_relevant(str(default_theme() / "templates" / "base.html"), root, theme)
    assert _is_relevant(str(root / "templates" / "base.html"), root, theme)
    assert _is_relevant(str(root / "content" / "a.md"), root, theme)
    assert not _is_relevant(str(default_theme() / "templates" / ".base.html.swp"), root, theme)
    assert not _is_relevant(str(tmp_path / "elsewhere.html"), root, theme)


def test_new_makes_a_site_that_builds(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["new", str(tmp_path / "mysite")])
    assert made.exit_code == 0, made.output
    site = tmp_path / "mysite"
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == sorted(SCAFFOLD_FILES)
    assert not (site / "templates").exists() and not (site / "static").exists()
    config = (site / "sitegen.yaml").read_text("utf-8").splitlines()
    settings = [line.split(":")[0] for line in config if line and not line.startswith("#")]
    assert settings == [f.name for f in fields(SiteConfig)]  # every setting, in order, each explained above it
    assert all(config[config.index(line) - 1].startswith("#") for line in config if line and not line.startswith("#"))
    assert "/public/" in (site / ".gitignore").read_text("utf-8") and "/.sitegen-cache/" in (site / ".gitignore").read_text()
    # CI keeps the last site and its build's record, so that a daily build is incremental
    workflow = yaml.safe_load((site / ".github" / "workflows" / "sitegen.yml").read_text("utf-8"))
    cached = next(step["with"]["path"] for step in workflow["jobs"]["build"]["steps"]
                  if step.get("uses", "").startswith("actions/cache@"))
    assert cached.split() == [".sitegen-cache", "public"], cached
    assert any(step.get("uses", "").startswith("actions/deploy-pages@") for step in workflow["jobs"]["deploy"]["steps"])
    netlify = tomllib.loads((site / "netlify.toml").read_text("utf-8"))
    assert netlify["plugins"][0]["inputs"]["paths"] == [".sitegen-cache", "public"], netlify["plugins"]
    built = runner.invoke(cli, ["build", "--root", str(site)])
    assert built.exit_code == 0, built.output
    assert "1 articles, 1 weekly digests" in built.output
    article = (site / "public" / "articles" / "20260105-example" / "index.html").read_text("utf-8")
    assert "示例科技有限公司在杭州发布新一代工业机器人" in article
    assert (site / "public" / "entities" / "org" / "shi-li-ke-ji-you-xian-gong-si" / "index.html").is_file()
    assert (site / "public" / "pagefind" / "pagefind-entry.json").is_file()


def test_new_refuses_a_folder_with_files_and_force_changes_none(tmp_path: Path) -> None:
    runner = CliRunner()
    site = tmp_path / "mine"
    (site / "content").mkdir(parents=True)
    (site / "sitegen.yaml").write_text("title: 我的站\n", "utf-8")
    refused = runner.invoke(cli, ["new", str(site)])
    assert refused.exit_code == 2 and "is not empty" in refused.output and "--force" in refused.output
    assert sorted(p.name for p in site.iterdir()) == ["content", "sitegen.yaml"]
    forced = runner.invoke(cli, ["new", str(site), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (site / "sitegen.yaml").read_text("utf-8") == "title: 我的站\n"
    assert "kept" in forced.output and (site / "content" / "_data" / "entities.yaml").is_file()
    file = tmp_path / "a-file"
    file.write_text("x", "utf-8")
    assert runner.invoke(cli, ["new", str(file)]).exit_code == 2


def test_new_never_writes_through_a_link_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    site = tmp_path / "site"
    site.mkdir()
    (site / "content").symlink_to(outside)
    result = CliRunner().invoke(cli, ["new", str(site), "--force"])
    assert result.exit_code == 2 and "leads outside" in result.output
    assert list(outside.iterdir()) == []


def test_build_outside_a_site_says_how_to_start_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a sitegen site" in result.output and "sitegen new" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "public").exists()
