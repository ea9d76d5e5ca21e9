"""What one ``sitegen build`` leaves for the next build into the same folder.

``serve`` keeps its :class:`~sitegen.site.session.SiteSession` in memory between updates; a
build is a new process each time. So a build records, beside its output, a digest of every
dependency key's value, of every page's template and dependency set, of every template and
static file, and of every searchable page's search-index request, with its sort values
(:class:`BuiltState`). The
next build plans the whole site again, and renders only
the pages whose template, dependency set or a dependency's value differs from what the
recorded build saw; the others are the previous output's files (Lektor's build state, kept
as digests rather than values).

The state is only trusted by the build that wrote it: its ``code`` is the digest of sitegen
itself, and the caller checks that the output folder is exactly as that build left it.

Beside the state, a build keeps the site's model itself (:class:`KeptModel`: the pages as
read, the grouping, the derived values' digests, the pages' plans), so that the next build
does not read, group, digest and plan the whole site again but updates the model for the
content files that changed, as ``serve`` does between edits, and compares it with the state.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sitegen.collector import paused
from sitegen.files import atomic_write, atomic_writer
from sitegen.model import Article
from sitegen.search import IndexedPage
from sitegen.site import keys
from sitegen.site.group import Grouping
from sitegen.site.keys import ALL_CONTENT, Key
from sitegen.site.load import (
    PickledPages,
    StoredPages,
    file_identity,
    read_chunks,
    read_stored_pages,
    write_chunks,
    write_stored_pages,
)

if TYPE_CHECKING:
    from sitegen.site.plan import PagePlan  # which imports this module

__all__ = ["BuiltState", "KeptModel", "PickledPlans", "digest", "key_digests", "page_digest", "updated_key_digests"]

_FORMAT = 5


def digest(value: object) -> str:
    """A short digest of a value made of tuples, strings, numbers and dates (its ``repr``)."""
    return hashlib.blake2b(repr(value).encode("utf-8"), digest_size=12).hexdigest()


def key_digests(grouping: Grouping, derived: Mapping[Key, str]) -> dict[str, str]:
    """The digest of every dependency key's value: the derived values' (``derived``, see
    :class:`~sitegen.site.plan.DerivedValues`), each content file's article (its body and
    every field) and :data:`~sitegen.site.keys.ALL_CONTENT` (which articles exist, with
    their cards)."""
    found: dict[str, str] = {str(key): value for key, value in derived.items()}
    for path, article in grouping.articles.items():
        found[keys.content(path)] = digest(article)
    found[ALL_CONTENT] = digest(sorted((path, found[keys.card(path)]) for path in grouping.articles))
    return found


def updated_key_digests(previous: Mapping[str, str], grouping: Grouping, derived: Mapping[Key, str],
                        changed: Iterable[Key]) -> dict[str, str]:
    """:func:`key_digests` from those of an earlier model (``previous``) and the keys whose
    value may have changed since (``changed``: derived keys, content keys, gone or not);
    the same digests, without digesting every article again."""
    found = dict(previous)
    for key in changed:
        if key in derived:
            found[key] = derived[key]
        elif (path := keys.content_path(key)) is not None and path in grouping.articles:
            found[key] = digest(grouping.articles[path])
        else:
            found.pop(key, None)
    found[ALL_CONTENT] = digest(sorted((path, found[keys.card(path)]) for path in grouping.articles))
    return found


def page_digest(template: str | None, deps: Iterable[Key]) -> str:
    """The digest of what a page is made from, beyond the values of its dependencies."""
    return digest((template, sorted(deps)))


@dataclass(frozen=True)
class BuiltState:
    """The digests a build made its output from (see the module docs)."""

    code: str  # sitegen itself
    inputs: str  # the settings, the entity data and the build options
    static: dict[str, str]  # static output path -> digest of its bytes
    templates: dict[str, str]  # template name -> digest of its text
    values: dict[str, str]  # dependency key -> digest of its value
    pages: dict[str, str]  # output path -> digest of the page's template and dependency set
    searched: dict[str, IndexedPage]  # output path of each searchable page -> what its index entry is made of
    index: dict[str, str] = field(default_factory=dict)  # search bundle file -> its digest (BundleFiles.digest)

    def save(self, path: Path) -> None:
        """Write the state to ``path`` (atomically)."""
        # not dataclasses.asdict: it copies every value recursively (2 s for 20,000 pages)
        plain = {field.name: getattr(self, field.name) for field in fields(self) if field.name != "searched"}
        searched = {relpath: [page.digest, page.language, page.sort_values, page.since]
                    for relpath, page in self.searched.items()}
        atomic_write(path, json.dumps({"format": _FORMAT, **plain, "searched": searched}, sort_keys=True).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> BuiltState | None:
        """The state saved at ``path``; None when there is none or it cannot be read."""
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.pop("format") != _FORMAT:
                return None
            data["searched"] = {relpath: IndexedPage(digest, language, tuple((name, value) for name, value in sorts), since)
                                for relpath, (digest, language, sorts, since) in data["searched"].items()}
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    @staticmethod
    def remove(path: Path) -> None:
        """Forget the state at ``path`` (before the output it describes is replaced)."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


@dataclass(frozen=True)
class KeptModel:
    """The site's model as a build left it (the pages as read, the grouping, the digests of
    the derived values, the pages' plans), kept beside the :class:`BuiltState` so that the
    next build into the same folder updates it for the files that changed instead of
    reading, grouping, digesting and planning the whole site again (``serve``'s update,
    across processes). Trusted only by a build whose last build was the one that saved it
    (``build``: that build's input signature) with the same ``code`` and ``inputs``."""

    build: str  # the input signature of the build that saved it
    code: str  # sitegen itself
    inputs: str  # the settings, the entity data and the options
    pages: StoredPages
    grouping: dict[str, object]
    value_digests: dict[Key, str]  # derived key -> digest of its value (DerivedValues.digests)
    plans: dict[str, list[PagePlan]]  # the planned pages of articles, digests, entities (Planner.kept)
    plans_read_from: PickledPlans | None = None  # where the plans were read from, if from a file

    def save(self, path: Path) -> None:
        """Write the model to ``path`` (atomically), streamed in parts so that what the
        pickler holds stays small: the pages in chunks, the grouping and values, which name
        each article by its source path (:class:`_ModelPickler`), then the plans in chunks.
        A chunk of pages or plans read from the model at ``path`` and unchanged since is
        copied from it."""
        with paused(), _opened_if(path, self.pages.read_from) as earlier, atomic_writer(path) as stream:
            pickle.dump((_MODEL_FORMAT, self.build, self.code, self.inputs), stream)
            write_stored_pages(stream, self.pages, earlier)
            _ModelPickler(stream).dump((self.grouping, self.value_digests))
            plans_from = self.plans_read_from
            same_file = earlier is not None and plans_from is not None and self.pages.read_from is not None and \
                plans_from.file == self.pages.read_from.file
            _write_plans(stream, self.plans, earlier if same_file else None, plans_from)

    @classmethod
    def load(cls, path: Path, build: str, code: str) -> KeptModel | None:
        """The model saved at ``path`` by the build whose input signature was ``build``,
        made by this sitegen (``code``); None when there is none, it cannot be read, or it
        is another's."""
        try:
            with paused(), open(path, "rb") as stream:  # millions of objects, none garbage
                made_as, made_by, made_with, inputs = pickle.load(stream)
                if (made_as, made_by, made_with) != (_MODEL_FORMAT, build, code):
                    return None
                pages = read_stored_pages(stream)
                grouping, value_digests = _ModelUnpickler(stream, pages).load()
                plans, plans_read_from = _read_plans(stream, pages)
        except Exception:  # noqa: BLE001 - a missing or damaged cache is only a slower build
            return None
        return cls(build, code, inputs, pages, grouping, value_digests, plans, plans_read_from)


_MODEL_FORMAT = 6

_PLANS_PER_PICKLE = 1_000
"""Plan entries (an article's pages, a digest's, an entity's) written per pickle: an edit
plans a few entries again, and the pickles of the others are copied from the model read
(pickling the plans of the 10,000-item site took 0.2-0.3 s)."""


@dataclass(frozen=True)
class PickledPlans:
    """Where the pickles of the plans a model held lie in its file, and the entries each
    holds (:class:`~sitegen.site.load.PickledPages`, for plans: a pickle whose entries are
    all still the lists read is copied)."""

    file: tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns of the file read
    spans: list[tuple[int, int, tuple[tuple[str, list[PagePlan]], ...]]]  # each pickle's start, end, entries


def _write_plans(stream: IO[bytes], plans: dict[str, list[PagePlan]], earlier: IO[bytes] | None,
                 read_from: PickledPlans | None) -> None:
    """Write ``plans`` to ``stream`` in pickles of :data:`_PLANS_PER_PICKLE` entries, each
    copied from ``earlier`` (the file they were read from, described by ``read_from``) when
    it holds the same entries, the same lists."""
    entries = sorted(plans.items())
    pickle.dump(len(entries), stream, protocol=pickle.HIGHEST_PROTOCOL)
    write_chunks(stream, entries, _PLANS_PER_PICKLE, lambda part: _ModelPickler(stream).dump(part), earlier,  # a memo each
                 read_from.spans if read_from is not None else [], _same_entries)


def _same_entries(pickled: tuple[tuple[str, list[PagePlan]], ...], part: list[tuple[str, list[PagePlan]]]) -> bool:
    """Whether a pickle of the entries ``pickled`` holds exactly ``part`` (the same lists)."""
    return len(pickled) == len(part) and all(name == new_name and plans is new_plans
                                             for (name, plans), (new_name, new_plans) in zip(pickled, part))


def _read_plans(stream: IO[bytes], pages: StoredPages) -> tuple[dict[str, list[PagePlan]], PickledPlans]:
    """The plans :func:`_write_plans` wrote to ``stream``, and where each pickle lies."""
    plans: dict[str, list[PagePlan]] = {}
    spans: list[tuple[int, int, tuple[tuple[str, list[PagePlan]], ...]]] = []
    for begin, end, part in read_chunks(stream, pickle.load(stream), lambda: _ModelUnpickler(stream, pages).load()):
        plans.update(part)
        spans.append((begin, end, tuple(part)))
    return plans, PickledPlans(file_identity(os.fstat(stream.fileno())), spans)


@contextmanager
def _opened_if(path: Path, read_from: PickledPages | None) -> Iterator[IO[bytes] | None]:
    """The file at ``path``, open, when it is the one ``read_from`` describes (unchanged
    since the pages were read from it); else None."""
    if read_from is None:
        yield None
        return
    try:
        stream = open(path, "rb")
    except OSError:
        yield None
        return
    with stream:
        yield stream if file_identity(os.fstat(stream.fileno())) == read_from.file else None


class _ModelPickler(pickle.Pickler):
    """Pickles the grouping and values of a model, each article as a reference to it by
    source path (the articles are written with the pages,
    :func:`~sitegen.site.load.write_stored_pages`). Only articles are looked at: the other
    objects take pickle's fast paths (a ``persistent_id`` would be called for each)."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(stream, protocol=pickle.HIGHEST_PROTOCOL)
        self.dispatch_table = {Article: _article_reference}


def _article_reference(article: Article) -> tuple[Callable[[str], Article], tuple[str]]:
    return _article_by_path, (article.source_path,)


def _article_by_path(path: str) -> Article:
    """Stands for "the article at ``path``" in a pickled model: :class:`_ModelUnpickler`
    reads it as its own lookup."""
    raise pickle.UnpicklingError("an article reference is read by the model's unpickler")


class _ModelUnpickler(pickle.Unpickler):
    """Reads what :class:`_ModelPickler` wrote, each article the one of ``pages``."""

    def __init__(self, stream: IO[bytes], pages: StoredPages) -> None:
        super().__init__(stream)
        # not a method of this unpickler: its memo keeps what find_class returns, and a
        # cycle through the unpickler would keep every object it read until a collection
        self.article = partial(_stored_article, pages)

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == _article_by_path.__name__:
            return self.article
        return super().find_class(module, name)


def _stored_article(pages: StoredPages, path: str) -> Article:
    """The article of ``pages`` read from ``path`` (what a reference to it stands for)."""
    article = pages.stored[path].article
    if article is None:
        raise pickle.UnpicklingError(f"no article for {path}")
    return article
