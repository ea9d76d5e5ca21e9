"""Where the searchable pages are cut into shards, and the shards' bundles kept between builds.

Pagefind's memory grows with the pages one run holds, so a site is indexed in shards of
consecutive pages (in the index's order: by the day each page first exists, then by path,
:meth:`~sitegen.search.IndexedPage.order`), each by its own run, and the bundles are merged
(:mod:`sitegen.search.merge`). :class:`ShardCut` places the cuts by the pages' paths alone
(content-defined chunking, as rsync and backup tools cut files): a page added or removed
moves the cuts of its own shard only, and a day's new pages land in the last shard. A build
keeps each shard's bundle in a :class:`ShardCache` under the digest of its pages' requests,
with the list of its pages, so the next build runs Pagefind only on the pages that changed:
a shard whose pages are mostly those of a kept bundle is that bundle patched
(:func:`~sitegen.search.merge.patch_shard`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sitegen.files import atomic_write, atomic_writer
from sitegen.search.merge import (
    MergedIndex,
    MergedWords,
    ShardBundle,
    ShardShape,
    WordTable,
    is_asset,
    kept_places,
    without_word_chunks,
)

__all__ = ["SHARDS", "ShardCache", "ShardCut", "shard_key"]


@dataclass(frozen=True)
class ShardCut:
    """A shard ends after a page whose path hashes to a multiple of ``spread`` once it holds
    ``least`` pages, and at ``most`` pages in any case (about ``least + spread`` on average)."""

    least: int = 250
    spread: int = 750
    most: int = 1_500

    @classmethod
    def every(cls, pages: int) -> ShardCut:
        """A cut after every ``pages`` pages, whatever their paths."""
        return cls(pages, 1, pages)

    def ends_after(self, relpath: str, pages: int) -> bool:
        """Whether a shard that holds ``pages`` pages, the last at ``relpath``, ends there."""
        if pages >= self.most:
            return True
        if pages < self.least:
            return False
        number = int.from_bytes(hashlib.blake2b(relpath.encode("utf-8"), digest_size=8).digest(), "big")
        return number % self.spread == 0

    def shards(self, relpaths: Sequence[str]) -> list[list[str]]:
        """``relpaths`` (in the index's order) cut into shards."""
        shards: list[list[str]] = [[]]
        for relpath in relpaths:
            shards[-1].append(relpath)
            if self.ends_after(relpath, len(shards[-1])):
                shards.append([])
        return [shard for shard in shards if shard]


SHARDS = ShardCut()
"""The cut a build uses: shards of about 900 pages, never over 1,500. Pagefind's memory
grows with the pages it holds: 2.1 GB for the 19,881 pages of the 10,000-item site in one
run; for 1,000 / 1,500 / 2,000 articles of the 24,000-item site 151 / 215 / 266 MB at most.
The largest run is what a build's peak adds to the build's own memory; with a cap of 2,000
the 24,000-item site had 5 shards at the cap."""


def shard_key(pages: Iterable[tuple[str, str]]) -> str:
    """The key of a shard: a digest of its pages' paths and request digests, in order."""
    text = "\n".join(f"{relpath}\t{digest}" for relpath, digest in pages)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class ShardCache:
    """Shard bundles by key, one file each in ``folder`` (written by sitegen itself). A
    bundle also depends on what turns a page into its request beside the page itself (the
    segmenter, the entity aliases): ``salt`` names that, and a bundle kept under another
    salt is not found."""

    def __init__(self, folder: Path, salt: str = "") -> None:
        self.folder = folder
        self.salt = salt
        self._assets: dict[str, bytes] = {}  # each asset's bytes as first read, by name: every bundle's are the same

    def _path(self, key: str) -> Path:
        return self.folder / f"{self._salted(key)}.shard"

    def _salted(self, name: str) -> str:
        return hashlib.blake2b(f"{self.salt}\x00{name}".encode(), digest_size=16).hexdigest()

    def get(self, key: str, words: Mapping[str, WordTable] | None = None) -> ShardBundle | None:
        """The bundle kept under ``key``, with its word index when that was kept too, or is
        given (``words``: then not read), and then without the files it was read from; None
        when there is none (or it cannot be read). Its assets (:func:`~sitegen.search.merge.is_asset`)
        are the bytes every bundle this cache gave holds."""
        path = self._path(key)
        try:
            files, sort_values, pages = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, ValueError, TypeError, EOFError):
            return None
        for name, data in files.items():  # held once, not once a shard (0.4 MB each)
            if is_asset(name) and (first := self._assets.setdefault(name, data)) == data:
                files[name] = first  # (compared, not hashed: a build reads every kept shard)
        return without_word_chunks(ShardBundle(files, sort_values, pages, self.words(key) if words is None else words))

    def words(self, key: str) -> dict[str, WordTable] | None:
        """The word index kept with the bundle under ``key`` (:meth:`put_words`); None when
        there is none (or it cannot be read: the merge reads it again from the bundle)."""
        try:
            words = pickle.loads(self._path(key).with_suffix(".words").read_bytes())
        except Exception:  # noqa: BLE001 - a missing or damaged word index
            return None
        if not (isinstance(words, dict) and all(isinstance(table, WordTable) for table in words.values())):
            return None
        return words

    def put(self, key: str, bundle: ShardBundle) -> None:
        """Keep ``bundle`` under ``key`` (and its word index when it has been read), and
        beside it the list of its pages."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        path.with_suffix(".words").unlink(missing_ok=True)
        atomic_write(path, pickle.dumps((bundle.files, list(bundle.sort_values), list(bundle.pages)), protocol=5))
        if bundle.words is not None:
            self.put_words(key, bundle.words)
        listed = json.dumps({"key": key, "pages": [list(page) for page in bundle.pages]}, ensure_ascii=False)
        atomic_write(path.with_suffix(".pages"), listed.encode("utf-8"))

    def put_words(self, key: str, words: Mapping[str, WordTable]) -> None:
        """Keep the word index read from the bundle kept under ``key`` (see
        :func:`~sitegen.search.merge.with_words`)."""
        atomic_write(self._path(key).with_suffix(".words"), pickle.dumps(dict(words), protocol=5))

    def merged(self, shapes: tuple[ShardShape, ...] | None = None) -> MergedIndex | None:
        """What the last merge of bundles kept under this salt made (:meth:`put_merged`),
        when its first shard had the shape of the first of ``shapes`` (None: of any; see
        :func:`~sitegen.search.merge.kept_places`); None when there is none (or it cannot be
        read). Its word index is read only then: a merge whose every page has another number
        does not hold it in memory."""
        try:
            with open(self._merged_path(), "rb") as stream:
                keys, made_of = pickle.load(stream)
                if shapes is not None and not kept_places(made_of, shapes):
                    return None
                merged = MergedIndex(keys, made_of, pickle.load(stream))
        except Exception:  # noqa: BLE001 - a missing or damaged record: the next merge is a whole one
            return None
        return merged if all(isinstance(words, MergedWords) for words in merged.words.values()) else None

    def put_merged(self, merged: MergedIndex) -> None:
        """Keep what a merge made, for the next one (see
        :func:`~sitegen.search.merge.merge_shards_since`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_writer(self._merged_path()) as stream:
            pickle.dump((merged.keys, merged.shapes), stream, protocol=5)
            pickle.dump(dict(merged.words), stream, protocol=5)

    def _merged_path(self) -> Path:
        return self.folder / f"{self._salted('merged')}.merged"

    def kept_pages(self) -> dict[str, tuple[str, str]]:
        """Every page of a kept bundle: its output path -> the bundle's key and the page's
        request digest there (from the lists beside the bundles: no bundle is read)."""
        found: dict[str, tuple[str, str]] = {}
        try:
            names = sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return found
        for name in names:
            if not name.endswith(".pages") or not (self.folder / name).with_suffix(".shard").is_file():
                continue
            try:
                listed = json.loads((self.folder / name).read_text("utf-8"))
                if self._path(listed["key"]).name != name.replace(".pages", ".shard"):
                    continue  # kept under another salt
                for relpath, digest in listed["pages"]:
                    found[relpath] = (listed["key"], digest)
            except (OSError, ValueError, TypeError, KeyError):
                continue
        return found

    def clear(self) -> None:
        """Remove every bundle and the record of every merge."""
        self._remove_where(lambda name: name.endswith((".shard", ".pages", ".words", ".merged")))

    def keep_only(self, keys: Iterable[str]) -> None:
        """Remove every bundle but those under ``keys``, and the records of merges made
        under another salt."""
        wanted = {self._path(key).name for key in keys}
        merged = self._merged_path().name
        self._remove_where(lambda name: (name.endswith(".merged") and name != merged) or
                           (name.endswith((".shard", ".pages", ".words")) and
                            name.rsplit(".", 1)[0] + ".shard" not in wanted))

    def _remove_where(self, unwanted: Callable[[str], bool]) -> None:
        """Remove the files of the cache's folder whose names are ``unwanted``."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in names:
            if unwanted(name):
                (self.folder / name).unlink(missing_ok=True)
