"""Run ingest: read → clean → split → title → date → deduplicate → write pages.

Pages are planned in memory first; :mod:`sitegen.ingest.pages` then writes them, refusing to
overwrite a page an editor changed.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sitegen.errors import ContentError, Diagnostics
from sitegen.frontmatter import TITLE_MAX, FrontMatter, dump_page, parse_page
from sitegen.ingest.clean import Cleaned, Ruler, repair_ruler, tidy_ruler
from sitegen.ingest.container import find_container, widen
from sitegen.ingest.dates import (
    DateMention,
    find_stamps,
    first_mention,
    month_mentions,
    resolve_month_day,
    stated_years,
)
from sitegen.ingest.dedupe import Deduplicator
from sitegen.ingest.layout import TITLE_WINDOW, LayoutModel, PageLayout, best_span, default_model, find_layout
from sitegen.ingest.lines import Line, is_prose, page_lines, shared_lines
from sitegen.ingest.posts import Post, find_posts
from sitegen.ingest.readers import RawDocument, RawFile, discover, read_documents
from sitegen.ingest.split import RawItem, SplitResult, is_digest, split_document, split_roundup
from sitegen.ingest.titles import clean_stated_title, generate_headline
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.text import sentences, short_hash


@dataclass(frozen=True)
class PlannedPage:
    """A page ingest wants to write: its front matter (checked by the schema build reads
    pages with), keys a raw ``.md`` page brought that the schema does not know (kept: build
    warns of them), and the Markdown body."""

    front: FrontMatter
    body: str
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def origin(self) -> str:
        """The raw document and the item's position in it (``seeds/002_….txt#2``)."""
        return self.front.origin or ""

    @property
    def relpath(self) -> str:
        """Path under ``content/``: ``articles/YYYY/MM/<slug>.md`` (``articles/undated/`` for
        an item whose page gives no date)."""
        day = self.front.date
        folder = f"{day:%Y}/{day:%m}" if day is not None else "undated"
        return f"articles/{folder}/{self.front.slug}.md"

    def text(self) -> str:
        """The page as written: front matter, then the body."""
        return dump_page({**self.front.to_mapping(), **dict(self.extra)}, self.body)


@dataclass
class IngestReport:
    """What one ingest run did, for the console and ``--report json``."""

    documents: int = 0
    items: int = 0
    written: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    uncertain_dates: list[str] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)  # items whose page gives no date at all
    failed_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {k: v for k, v in self.__dict__.items()}


def today() -> date:
    """The reference "today": ``SOURCE_DATE_EPOCH`` when set (reproducible runs), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return date.today()


@dataclass(frozen=True)
class _Dated:
    date: date | None
    certain: bool


def _mention_of(item: RawItem) -> DateMention | None:
    lead = "".join(sentences(item.paragraphs[0])[:2]) if item.paragraphs else ""
    return first_mention(lead)


def _resolve_items(items: tuple[RawItem, ...], shape: str, meta: dict[str, Any], full_text: str) -> list[_Dated]:
    published: date | None = meta.get("published")
    single_publication = shape in {"digest", "newsletter", "article"}
    years = stated_years(full_text) if single_publication else []
    doc_year = Counter(years).most_common(1)[0][0] if years else None
    months = month_mentions(full_text) if single_publication else []
    doc_month = published.month if published else (Counter(months).most_common(1)[0][0] if months else None)

    def from_month_day(month: int, day: int) -> _Dated:
        if published:
            return _Dated(resolve_month_day(month, day, published), True)
        if doc_year:
            try:
                return _Dated(date(doc_year, month, day), True)
            except ValueError:
                return _Dated(None, False)
        return _Dated(None, False)

    resolved: list[_Dated] = []
    pending_relative: list[int] = []
    for index, item in enumerate(items):
        mention = _mention_of(item)
        dated = _Dated(None, False)
        if mention is None or mention.kind == "relative":
            pending_relative.append(index)
        elif mention.kind == "full":
            try:
                dated = _Dated(date(mention.year, mention.month, mention.day), True)  # type: ignore[arg-type]
            except ValueError:
                pending_relative.append(index)
        elif mention.kind == "month_day":
            dated = from_month_day(mention.month, mention.day)  # type: ignore[arg-type]
            if dated.date is None:
                dated = _Dated(None, False)
                resolved.append(dated)
                continue
        elif mention.kind == "day":
            if doc_month:
                dated = from_month_day(doc_month, mention.day)  # type: ignore[arg-type]
            else:
                pending_relative.append(index)
        resolved.append(dated)
    # undated and 近日/日前 items: the document's own date (publication, or latest stated date)
    known = [d.date for d in resolved if d.date and d.certain]
    reference = published or (max(known) if known and single_publication else None)
    for index in pending_relative:
        resolved[index] = _Dated(reference, reference is not None)
    return resolved


def _fallback_year(index: int, resolved: list[_Dated]) -> int | None:
    """For an item whose year is unknown: the year of the nearest dated item in the same
    document (still flagged uncertain)."""
    for distance in range(1, len(resolved)):
        for other in (index - distance, index + distance):
            if 0 <= other < len(resolved) and resolved[other].date and resolved[other].certain:
                return resolved[other].date.year  # type: ignore[union-attr]
    return None


def _split(text: str, meta: dict[str, Any], doc: RawDocument) -> SplitResult:
    """The items of a cleaned document: a record's own title or a page's headline makes one
    article, unless the text really is a digest, a roundup or a newsletter."""
    title = doc.meta.get("title")
    if title:
        roundup = split_roundup(text)
        if roundup is not None:
            # the record's own title (国内联播快讯) names the column its stories came from
            return SplitResult("roundup", tuple(replace(item, category=title) for item in roundup.items))
        return SplitResult("article", (RawItem(1, title, tuple(p for p in text.split("\n") if p.strip())),))
    return split_document(text, headline=meta.get("headline"))


def plan_document(doc: RawDocument, cleaned: Cleaned, diagnostics: Diagnostics, counter_start: int = 0) -> list[PlannedPage]:
    """Turn one cleaned document into planned pages, each checked as build reads pages (a
    link build would refuse is dropped with a warning)."""
    meta = {**doc.meta, **{k: v for k, v in cleaned.meta.items() if k not in doc.meta}}
    split = _split(cleaned.text, meta, doc)
    if not split.items:
        diagnostics.warn("no news item found (document is empty after cleaning)", doc.path)
        return []
    resolved = _resolve_items(split.items, split.shape, meta, cleaned.text)
    published: date | None = meta.get("published")
    pages = []
    for index, item in enumerate(split.items):
        position = counter_start + item.position
        origin = f"{doc.name}#{position}"
        title = clean_stated_title(item.title) if item.title else generate_headline(item.body)
        dated = resolved[index]
        event = dated.date
        uncertain = not dated.certain
        if event is None:
            event = _partial_date(item, index, resolved, meta)
            uncertain = True
        page_date = published or event
        front: dict[str, Any] = {
            "title": title,
            "date": page_date,
            "date_uncertain": uncertain,
        }
        if event != page_date:
            front["event_date"] = event
        front["source"] = meta.get("source") or meta.get("document_title")
        if meta.get("source_url"):
            front["source_url"] = meta["source_url"]
        front["origin"] = origin
        front["also"] = []
        if item.category:
            front["category"] = item.category
        if meta.get("tags"):
            front["tags"] = list(meta["tags"])
        for key in ("author", "editor", "supervisor"):
            if meta.get(key):
                front[key] = meta[key]
        if meta.get("original_script"):
            front["original_script"] = meta["original_script"]
        if split.shape == "digest":
            # the digest's own order says how important its editors found each item
            front["weight"] = len(split.items) - index
        front["slug"] = f"{page_date:%Y%m%d}-{short_hash(origin, 6)}" if page_date else f"undated-{short_hash(origin, 6)}"
        front["draft"] = False
        pages.append(PlannedPage(_checked(front, item.body, doc, diagnostics), item.body))
    return pages


def _partial_date(item: RawItem, index: int, resolved: list[_Dated], meta: dict[str, Any]) -> date | None:
    """An item's date when its year (or day) is not known: a month and day stated by the
    item or the page, in the year of the nearest dated item of the same document or the latest
    such day up to today; the first of the month (or year) a page stamp gives; else none.
    Such a date is always flagged uncertain; no date at all is ever made up."""
    mention = _mention_of(item)
    month_day: tuple[int, int] | None = ((mention.month, mention.day) if mention and mention.month and mention.day
                                         else meta.get("month_day"))
    if month_day:
        month, day = month_day
        year = _fallback_year(index, resolved)
        try:
            return date(year, month, day) if year else resolve_month_day(month, day, today())
        except ValueError:
            return None
    return meta.get("month_or_year")


@dataclass(frozen=True)
class _Read:
    """A document read, with its text repaired and (for a scraped page) split into lines."""

    doc: RawDocument
    repaired: Cleaned
    lines: tuple[Line, ...] | None


def plan(paths: list[Path], diagnostics: Diagnostics, report: IngestReport,
         progress: Progress = NO_PROGRESS, model: LayoutModel | None = None) -> list[PlannedPage]:
    """Read every document under ``paths`` and plan its pages (duplicates merged);
    ``progress`` has a stage per file, counting its documents. A file that cannot be read or
    planned is reported (``report.failed_files``) and the others go on. Scraped pages (text
    files) are read together first: a line repeated across them is page furniture."""
    repair, tidy = repair_ruler(), tidy_ruler()
    model = model or default_model()
    files = discover(paths)
    read: list[tuple[int, RawFile, list[_Read]]] = []
    for number, raw in enumerate(files, 1):
        progress.stage(f"{raw.path.name[:40]} (file {number:,}/{len(files):,}): reading")
        try:
            documents = read_documents(raw)
        except ContentError as exc:
            diagnostics.warn(f"skipped: {exc.message}", exc.path, exc.line)
            report.failed_files.append(str(raw.path))
            continue
        prepared = []
        for doc in documents:
            if doc.format == "md":
                prepared.append(_Read(doc, Cleaned(doc.text), None))
                continue
            repaired = repair.run(doc.text, {"title": doc.meta["title"]} if doc.meta.get("title") else None)
            scraped = doc.format in {"txt", "html"}  # a whole page: the layout model finds its article
            prepared.append(_Read(doc, repaired, tuple(page_lines(repaired.text)) if scraped else None))
        read.append((number, raw, prepared))
    pages_lines = [r.lines for _, _, prepared in read for r in prepared if r.lines is not None]
    shared = iter(shared_lines(pages_lines))

    by_origin: dict[str, PlannedPage] = {}  # in the order planned
    dedupe = Deduplicator()
    for number, raw, prepared in read:
        progress.stage(f"{raw.path.name[:40]} (file {number:,}/{len(files):,}): documents", len(prepared))
        counter = 0
        for item in prepared:
            doc = item.doc
            progress.advance()
            report.documents += 1
            try:
                if doc.format == "md":
                    pages = _plan_markdown(doc, diagnostics)
                else:
                    articles = [item.repaired]
                    if item.lines is not None:
                        page_shared = next(shared)
                        if not is_digest(item.repaired.text):  # a digest's numbered items are its article
                            articles = _articles_of(item.lines, page_shared, model, item.repaired, tidy, doc.meta)
                    pages = []
                    for article in articles:
                        cleaned = tidy.run(article.text, article.meta)
                        pages += plan_document(doc, cleaned, diagnostics, counter + len(pages))
            except ContentError as exc:
                diagnostics.warn(f"skipped: {exc.message}", exc.path, exc.line)
                if str(doc.path) not in report.failed_files:
                    report.failed_files.append(str(doc.path))
                continue
            counter += len(pages)
            for page in pages:
                report.items += 1
                if page.origin in by_origin:  # the same document twice (one file given twice)
                    continue
                earlier = dedupe.check(page.origin, page.front.title + "\n" + page.body, page.front.date)
                if earlier is not None:
                    first = by_origin[earlier]
                    by_origin[earlier] = replace(first, front=replace(first.front, also=(*first.front.also, page.origin)))
                    report.duplicates.append(f"{page.origin} = {first.origin}")
                    continue
                by_origin[page.origin] = page
    planned = list(by_origin.values())
    for page in planned:
        if page.front.date is None:
            report.undated.append(f"{page.origin}: {page.front.title}")
        elif page.front.date_uncertain:
            report.uncertain_dates.append(f"{page.origin}: {page.front.title} ({page.front.date})")
    return planned


def _articles_of(lines: tuple[Line, ...], shared: list[float], model: LayoutModel, repaired: Cleaned,
                 tidy: Ruler, page: dict[str, Any]) -> list[Cleaned]:
    """The articles of a scraped page: its posts when it is a page of posts
    (:mod:`sitegen.ingest.posts`), else its one article."""
    layout = find_layout(lines, model, shared)
    posts = find_posts(lines, layout.span[0] if layout.span else None)
    if posts:
        return [_post_article(post, layout.probabilities, repaired, tidy) for post in posts]
    return [_article_of(lines, layout, repaired, tidy, page)]


def _post_article(post: Post, probabilities: tuple[float, ...], repaired: Cleaned, tidy: Ruler) -> Cleaned:
    """One post of a page of posts: its header's title and date, and the stretch of body text
    under the header (the post's own furniture, a print link or a "posted by" line, left out)."""
    lines = post.lines
    span = best_span([probabilities[line.number] for line in lines], lines)
    if span is None:  # no likely body text: the post's prose lines
        body = [line for line in lines if is_prose(line.text)]
    else:
        body = list(lines[span[0]: span[1] + 1])
    headline = tidy.run(post.title).text.strip()
    meta: dict[str, Any] = {"headline": headline, "title": headline}
    if post.stamp.date is not None:
        meta["published"] = post.stamp.date
    return repaired.with_text("\n\n".join(line.text for line in body)).with_meta(**meta)


def _article_of(lines: tuple[Line, ...], layout: PageLayout, repaired: Cleaned, tidy: Ruler,
                page: dict[str, Any]) -> Cleaned:
    """The article of a scraped page: its body lines, with the headline and the page's own
    date stamp found around them in meta (see :mod:`sitegen.ingest.layout`), and what the
    lines between headline and body say (author, source: the metadata rules read them).
    ``page``: what a raw HTML page says outright (its ``<title>``/``<h1>``, a metadata date),
    used where the text alone leaves the headline or the date open."""
    meta: dict[str, Any] = {}
    title_line = layout.title
    title_text = title_line.text if title_line is not None else ""
    stated = _stated_headline(lines, layout, page.get("page_titles", ()))
    if stated is not None:
        layout = layout.with_title(stated[0], lines)
        title_line, title_text = stated
    if page.get("html") and layout.body:  # a raw page says where its article is
        container = find_container(page["html"], layout.body)
        if container is not None:
            layout = replace(layout, body=widen(lines, layout.body, title_line, layout.probabilities, container))
    if title_line is not None:
        headline = tidy.run(_HEADLINE_PREFIX.sub("", title_text)).text.strip()
        meta["headline"] = meta["title"] = headline
        if layout.body and title_line.number < layout.body[0].number:
            header = "\n".join(line.text for line in lines[title_line.number + 1: layout.body[0].number])
            meta.update({k: v for k, v in tidy.run(header).meta.items() if k in _HEADER_KEYS})
    elif layout.body and page.get("page_titles") and _shares_words(page["page_titles"][0], layout.body):
        meta["headline"] = meta["title"] = tidy.run(clean_stated_title(page["page_titles"][0])).text.strip()
    if layout.body and page.get("meta_published") and layout.stamp is None:
        meta["published"] = page["meta_published"]
    stamp = layout.stamp
    if stamp is not None:
        if stamp.date is not None:
            meta["published"] = stamp.date
        elif stamp.precision == "month_day":
            meta["month_day"] = (stamp.month, stamp.day)
        elif stamp.year is not None:
            meta["month_or_year"] = date(stamp.year, stamp.month or 1, 1)
    return repaired.with_text("\n\n".join(line.text for line in layout.body)).with_meta(**meta)


def _stated_headline(lines: tuple[Line, ...], layout: PageLayout,
                     titles: tuple[str, ...]) -> tuple[Line, str] | None:
    """The line before the body that the page's markup names as its headline (an ``<h1>`` or
    ``<title>`` holding the same words), and the headline: the line, or the markup's title
    when the page prints it over several lines."""
    if not titles or not layout.body:
        return None
    wanted = [(clean_stated_title(t), "".join(clean_stated_title(t).split())) for t in titles]
    first = layout.body[0].number
    near = layout.title.number - 2 if layout.title is not None else first - TITLE_WINDOW

    def headline_place(line: Line) -> bool:
        # by the headline found, or over a date line: a site's name in an <h1> at the top
        # of the page is no headline
        return line.number >= near or any(stamp.date is not None for other in lines[line.number + 1: line.number + 3]
                                           for stamp in find_stamps(other.text))

    window = [line for line in lines[max(0, first - TITLE_WINDOW): first + 1] if headline_place(line)]
    for line in reversed(window):
        text = "".join(clean_stated_title(_HEADLINE_PREFIX.sub("", line.text)).split())
        for _, squashed in wanted:
            if len(text) >= 4 and text == squashed:
                return line, line.text
    for line in window:  # the first line of a headline printed over several
        text = "".join(clean_stated_title(_HEADLINE_PREFIX.sub("", line.text)).split())
        for title, squashed in wanted:
            if len(text) >= 6 and text in squashed and len(text) * 4 >= len(squashed):
                rest = squashed[squashed.index(text) + len(text):]
                if squashed.startswith(text) and _SITE_SUFFIX.match(rest):
                    return line, line.text  # the whole headline; the markup adds the site's name
                return line, title
    return None


_SITE_SUFFIX = re.compile(r"^[-–—_|｜]\S{1,12}$")
"""What a page's <title> adds after its headline: ``-新华网``, ``_新浪财经``."""


def _shares_words(title: str, lines: tuple[Line, ...]) -> bool:
    """Whether a title shares most of its character pairs with the page's text (a site name
    used as every page's ``<title>`` does not)."""
    squashed = "".join(title.split())
    pairs = {squashed[i:i + 2] for i in range(len(squashed) - 1)}
    text = "".join("".join(line.text.split()) for line in lines)
    return bool(pairs) and sum(p in text for p in pairs) >= 0.5 * len(pairs)


_HEADER_KEYS = frozenset({"author", "source", "editor", "supervisor", "tags"})
_HEADLINE_PREFIX = re.compile(r"^(?:原标题|标题|题目)\s*[:：]\s*")


def _checked(front: dict[str, Any], body: str, doc: RawDocument, diagnostics: Diagnostics) -> FrontMatter:
    """A planned page's front matter as build will read it: through the one schema (a link
    build would refuse is dropped with a warning), so ingest never writes a page build
    refuses."""
    def warn(message: str, line: int | None) -> None:
        diagnostics.warn(message, doc.path, doc.record)

    title = " ".join(str(front.get("title") or "").split()) or generate_headline(body) or doc.name
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    return FrontMatter.from_mapping({**front, "title": title}, doc.path, str(front["slug"]), warn=warn,
                                    drop_bad_links=True)


def _plan_markdown(doc: RawDocument, diagnostics: Diagnostics) -> list[PlannedPage]:
    """A clean ``.md`` page passes through, checked as build checks pages; ``origin`` and
    ``slug`` are added when missing, keys build does not know are kept (build warns)."""
    page = parse_page(doc.text, doc.path)
    lines = page.yaml
    front = dict(page.front)
    if front.get("origin") in (None, ""):
        front["origin"] = f"{doc.name}#1"
    day = front.get("date")
    default_slug = f"{day:%Y%m%d}-{short_hash(str(front['origin']), 6)}" if isinstance(day, date) else doc.path.stem

    def warn(message: str, line: int | None) -> None:
        diagnostics.warn(message, doc.path, line)

    checked = FrontMatter.from_mapping(front, doc.path, default_slug, lines.line_of if lines else lambda key: None,
                                       warn, drop_bad_links=True)
    extra = tuple((k, v) for k, v in front.items() if k not in _FRONT_KEYS)
    return [PlannedPage(checked, page.body.strip("\n"), extra)]


_FRONT_KEYS = frozenset(f.name for f in fields(FrontMatter))
