"""The ``sitegen`` command line: a thin layer over :mod:`sitegen.ingest`, :mod:`sitegen.site.build`
and :mod:`sitegen.serve`. User errors end with a message and an exit code, no traceback:
0 success, 1 content or template error, 2 usage error."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from sitegen import __version__
from sitegen.errors import EXIT_CONTENT, EXIT_USAGE, Diagnostics, SitegenError
from sitegen.progress import progress_for


def _fail(exc: SitegenError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _crash(exc: Exception, debug: bool) -> NoReturn:
    """Anything else that went wrong: one line (a file error names the file), the traceback
    only with ``--debug``."""
    if debug:
        traceback.print_exc()
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror}", err=True)
    else:
        hint = "" if debug else " (a bug in sitegen: run with --debug for the details)"
        click.echo(f"error: {type(exc).__name__}: {exc}{hint}", err=True)
    sys.exit(EXIT_CONTENT)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SitegenError as exc:
            _fail(exc)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the promise: no traceback, one line
            _crash(exc, bool(ctx.params.get("debug")))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
def cli(debug: bool) -> None:
    """Build a Chinese news-digest website from scraped documents.

    Typical use: `sitegen new mysite` to start a site, `sitegen ingest RAW_DIR` in it, fix
    titles in content/, `sitegen serve` to preview, `sitegen build` to publish public/.
    """


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Add the missing files to a folder that is not empty (none is changed).")
def new(folder: Path, force: bool) -> None:
    """Start a site in FOLDER: settings, entity data, an example article, .gitignore,
    netlify.toml and a GitHub Actions workflow. It builds at once with the theme inside
    sitegen; add templates/ or static/ files to override the theme's, file by file."""
    from sitegen.new_site import new_site

    made = new_site(folder, force=force)
    for relpath in made.written:
        click.echo(f"  wrote {folder / relpath}")
    for relpath in made.kept:
        click.echo(f"  kept  {folder / relpath} (already there)")
    click.echo(f"new site in {folder}: cd {folder} && sitegen serve (preview), sitegen ingest RAW_DIR (your pages), "
               "sitegen build (publish public/)")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--content", "content_dir", default="content", show_default=True, type=click.Path(path_type=Path),
              help="Folder the Markdown pages are written to.")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite pages an editor changed.")
@click.option("--report", "report_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Format of the closing report.")
def ingest(paths: tuple[Path, ...], content_dir: Path, dry_run: bool, force: bool, report_format: str) -> None:
    """Turn raw documents (.txt .html .jsonl .md, files or folders) into pages under
    CONTENT/articles/YYYY/MM/. Running it twice writes nothing new; a page an editor
    changed is never overwritten unless --force."""
    from sitegen.ingest.pages import write_pages
    from sitegen.ingest.pipeline import IngestReport, plan

    progress = progress_for(sys.stderr)
    diagnostics = Diagnostics(before_echo=progress.clear)
    report = IngestReport()
    try:
        pages = plan(list(paths), diagnostics, report, progress)
        write_pages(pages, content_dir, report, dry_run=dry_run, force=force, progress=progress)
    finally:
        progress.clear()
    if report_format == "json":
        click.echo(json.dumps({**report.as_dict(), "warnings": diagnostics.warnings}, ensure_ascii=False, indent=1))
    else:
        verb = "would write" if dry_run else "written"
        click.echo(
            f"documents read: {report.documents}; items: {report.items}; {verb}: {len(report.written)}; "
            f"updated: {len(report.updated)}; unchanged: {len(report.unchanged)}; "
            f"kept (edited by hand): {len(report.kept_edited)}; duplicates skipped: {len(report.duplicates)}; "
            f"uncertain dates: {len(report.uncertain_dates)}; no date: {len(report.undated)}; "
            f"files failed: {len(report.failed_files)}"
        )
        if dry_run:
            for relpath in report.written + report.updated:
                click.echo(f"  {'write' if relpath in report.written else 'update'} {content_dir / relpath}")
        for line in report.kept_edited:
            click.echo(f"  kept: {line}")
        for line in report.duplicates:
            click.echo(f"  duplicate: {line}")
        for line in report.uncertain_dates:
            click.echo(f"  year uncertain: {line}")
        for line in report.undated:
            click.echo(f"  no date (listed under 日期不详, in no digest): {line}")
    if report.failed_files:
        sys.exit(1)


@cli.command()
@click.option("--out", "out_dir", default=None, type=click.Path(path_type=Path),
              help="Output folder, replaced atomically at the end  [default: ROOT/public]")
@click.option("--base-url", default=None, help="Absolute URL the site is published at (feeds, sitemap, canonical links).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--no-search", is_flag=True, help="Skip the Pagefind search index.")
@click.option("--drafts", is_flag=True, help="Include pages marked draft: true.")
@click.option("--force", is_flag=True, help="Render and index every page, even if nothing changed since the last build "
                                           "into OUT.")
@click.option("--root", default=".", show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Site root (the folder holding content/).")
def build(out_dir: Path | None, base_url: str | None, strict: bool, no_search: bool, drafts: bool, force: bool,
          root: Path) -> None:
    """Build the site from content/ (with its templates/ and static/ over the theme's) into OUT:
    after a first build, only the pages whose sources changed are rendered and only the
    search shards holding them indexed again (nothing to do when no input changed)."""
    from sitegen.site.build import BuildOptions, build_site

    progress = progress_for(sys.stderr)
    diagnostics = Diagnostics(before_echo=progress.clear)
    out_dir = root / "public" if out_dir is None else out_dir
    options = BuildOptions(root=root, out=out_dir, base_url=base_url, search=not no_search, drafts=drafts, strict=strict,
                           force=force)
    try:
        result = build_site(options, diagnostics, progress, on_wait=lambda: click.echo(
            f"waiting for another build into {out_dir} to finish…", err=True))
    finally:
        progress.clear()
    click.echo(result.summary())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--kind", type=click.Choice(["person", "org", "place"]), help="Only this kind.")
@click.option("--limit", type=int, default=0, help="Show at most this many (0: all).")
@click.option("--root", default=".", show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Site root holding content/.")
def entities(as_json: bool, kind: str | None, limit: int, root: Path) -> None:
    """List the entities the site's articles name, most named first, so an editor can
    review them (and steer them in content/_data/entities.yaml)."""
    from sitegen.site.build import review_entities

    rows = review_entities(root, Diagnostics())
    if kind:
        rows = [r for r in rows if r["kind"] == kind]
    if limit:
        rows = rows[:limit]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        extra = f"  又称 {'、'.join(row['aliases'])}" if row["aliases"] else ""
        roles = f"  职务 {'、'.join(row['roles'][:3])}" if row["roles"] else ""
        page = "" if row["has_page"] else "  (no page: below entity_min_articles)"
        click.echo(f"{row['kind']:<6} {row['name']}\t{row['articles']} articles, {row['mentions']} mentions{extra}{roles}{page}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port (0 picks a free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@click.option("--no-search", is_flag=True, help="Skip the search index on rebuilds (faster).")
@click.option("--root", default=".", show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Site root (the folder holding content/).")
def serve(host: str, port: int, open_browser: bool, no_search: bool, root: Path) -> None:
    """Build, serve on HOST:PORT, rebuild on every change and reload open pages."""
    from sitegen.serve import serve_site

    serve_site(root=root, host=host, port=port, open_browser=open_browser, search=not no_search)


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(standalone_mode=True)
    except SitegenError as exc:  # pragma: no cover - raised outside a command
        _fail(exc)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(EXIT_USAGE)
