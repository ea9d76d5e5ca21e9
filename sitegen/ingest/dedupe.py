"""Duplicate detection: the same story from two sites, or twice in one run, is written once.

Texts are compared after normalisation (NFKC, punctuation and whitespace removed): identical
texts by hash, near-identical ones with MinHash over character 5-grams and LSH (datasketch),
confirmed by the estimated Jaccard similarity. Two items more than ``max_days`` apart are
never merged, so recurring bulletins with the same wording stay separate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sitegen.text import nfkc, short_hash

_STRIP = re.compile(r"[\W_]+", re.UNICODE)
SHINGLE = 5
MIN_NEAR_CHARS = 40


def normalise(body: str) -> str:
    """Text used for comparison: NFKC, without punctuation, whitespace or Markdown marks."""
    return _STRIP.sub("", nfkc(body))


@dataclass
class _Entry:
    key: str
    day: date | None


class Deduplicator:
    """Remembers items seen in a run and finds the earlier item a new one duplicates."""

    def __init__(self, threshold: float = 0.85, num_perm: int = 64, max_days: int = 3) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self.num_perm = num_perm
        self.max_days = max_days
        self._exact: dict[str, _Entry] = {}
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._hashes: dict[str, object] = {}
        self._entries: dict[str, _Entry] = {}
        self._keys: set[str] = set()

    def _minhash(self, text: str) -> Any:
        from datasketch import MinHash

        minhash = MinHash(num_perm=self.num_perm, seed=1)
        shingles = {text[i : i + SHINGLE] for i in range(max(1, len(text) - SHINGLE + 1))}
        minhash.update_batch([s.encode("utf-8") for s in sorted(shingles)])
        return minhash

    def _close(self, one: date | None, other: date | None) -> bool:
        """Dated items further apart than ``max_days`` are different news; an undated one may
        be either."""
        return one is None or other is None or abs((one - other).days) <= self.max_days

    def check(self, key: str, body: str, day: date | None) -> str | None:
        """The key of an earlier duplicate of ``body`` (and remember this item if none)."""
        if key in self._keys:
            return None  # the same item again: it is not its own duplicate
        self._keys.add(key)
        text = normalise(body)
        digest = short_hash(text, 20)
        earlier = self._exact.get(digest)
        if earlier and self._close(earlier.day, day):
            return earlier.key
        minhash = self._minhash(text) if len(text) >= MIN_NEAR_CHARS else None
        if minhash is not None:
            for candidate in sorted(self._lsh.query(minhash)):
                entry = self._entries[candidate]
                if self._close(entry.day, day) and \
                        minhash.jaccard(self._hashes[candidate]) >= self.threshold:
                    return entry.key
        entry = _Entry(key, day)
        self._exact.setdefault(digest, entry)
        if minhash is not None:
            self._lsh.insert(key, minhash)
            self._hashes[key] = minhash
            self._entries[key] = entry
        return None
