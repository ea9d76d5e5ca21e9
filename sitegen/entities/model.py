"""A small, fast character-level tagger for people, organisations, places and positions.

Each character gets a BIOES tag (``B-PER``, ``I-ORG``, …). Features are character n-grams
around the position (and the character classes), hashed into a fixed table, so extracting
them is a handful of numpy operations over the whole text; scores are looked up from one
weight matrix; decoding is a Viterbi pass constrained to valid BIOES sequences, run for a
whole batch of sentences at once. The weights come from an averaged structured perceptron
trained on CLUENER (``python -m sitegen.entities.train``) and ship as ``data/ner-model.npz``.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import BytesIO

import numpy as np

KINDS = ("PER", "ORG", "LOC", "POS")
TAGS = ("O",) + tuple(f"{p}-{k}" for k in KINDS for p in "BIES")
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
HASH_BITS = 20
PAD = 0x10FFFF  # a Unicode noncharacter: marks sentence edges
PAD_CHAR = chr(PAD)
_SPLIT = re.compile(r"(?<=[。！？!?；;\n])")
MAX_CHUNK = 160
WordClusters = dict[str, tuple[int, int]]  # word → (coarse, fine) cluster id, 0 for none

# (template id, offsets): character n-grams around the position
TEMPLATES: tuple[tuple[int, tuple[int, ...]], ...] = (
    (1, (-2,)), (2, (-1,)), (3, (0,)), (4, (1,)), (5, (2,)),
    (6, (-2, -1)), (7, (-1, 0)), (8, (0, 1)), (9, (1, 2)),
    (10, (-1, 1)), (11, (-2, -1, 0)), (12, (-1, 0, 1)), (13, (0, 1, 2)),
)  # (-3..-1) and (1..3) trigrams were dropped with the word clusters: same F1, fewer lookups
FEATURE_SET = 2
"""Bump when the features change: a model file trained on other features is refused."""
CLASS_TEMPLATE = 20
GAZETTEER_TEMPLATE = 30
GAZETTEER_MAX = 12


class Gazetteer:
    """Known names by kind; marks where they occur in a text (longest match first)."""

    def __init__(self, entries: dict[str, int]) -> None:
        self.entries = {k: v for k, v in entries.items() if 2 <= len(k) <= GAZETTEER_MAX}
        self.prefixes = {name[:n] for name in self.entries for n in range(2, len(name) + 1)}
        self._pair_codes = np.unique(np.array([ord(p[0]) << 21 | ord(p[1]) for p in self.prefixes if len(p) == 2],
                                              dtype=np.int64))

    @classmethod
    def from_names(cls, names: list[tuple[str, str]]) -> Gazetteer:
        """From ``(kind, name)`` pairs."""
        entries: dict[str, int] = {}
        for kind, name in names:
            if kind in KINDS:
                entries[name] = entries.get(name, 0) | (1 << KINDS.index(kind))
        return cls(entries)

    def extended(self, names: list[tuple[str, str]]) -> Gazetteer:
        """A copy that also knows ``names``."""
        merged = dict(self.entries)
        for kind, mask in Gazetteer.from_names(names).entries.items():
            merged[kind] = merged.get(kind, 0) | mask
        return Gazetteer(merged)

    def marks(self, text: str, out: np.ndarray) -> None:
        """Write, per kind, 1/2/3/4 (B/I/E/S of a known name) into ``out`` (len(text), kinds)."""
        if len(text) < 2 or not len(self._pair_codes):
            return
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        pairs = codes[:-1] << 21 | codes[1:]
        found = np.searchsorted(self._pair_codes, pairs)
        hit = self._pair_codes[np.minimum(found, len(self._pair_codes) - 1)] == pairs
        entries, prefixes = self.entries, self.prefixes
        n = len(text)
        for i in np.nonzero(hit)[0].tolist():
            best, best_mask = 0, 0
            for length in range(2, min(GAZETTEER_MAX, n - i) + 1):
                piece = text[i : i + length]
                if piece not in prefixes:
                    break
                mask = entries.get(piece)
                if mask:
                    best, best_mask = length, mask
            if best:
                for k in range(len(KINDS)):
                    if best_mask >> k & 1 and not out[i, k]:
                        out[i, k] = 1
                        inside = out[i + 1 : i + best - 1, k]
                        inside[inside == 0] = 2
                        if not out[i + best - 1, k]:
                            out[i + best - 1, k] = 3

    def feature_columns(self, padded: str) -> np.ndarray:
        """Gazetteer codes of :meth:`TaggerModel.encode`'s padded batch (each sentence between
        pad characters), found in one pass over the whole batch."""
        out = np.zeros((len(padded), len(KINDS)), dtype=np.int64)
        self.marks(padded, out)  # names hold no pad character, so no match crosses two sentences
        return out


EMPTY_GAZETTEER = Gazetteer({})
WORD_TEMPLATE = 40
CLUSTER_TEMPLATE = 50


WORD_MEMO_SIZE = 200_000
_WORD_INFO: dict[int, tuple[object, dict[str | None, tuple[int, int, int]]]] = {}


def _word_info_memo(clusters: WordClusters | None) -> dict[str | None, tuple[int, int, int]]:
    """word → (crc32 id, coarse cluster, fine cluster), remembered per cluster table."""
    key = id(clusters) if clusters is not None else 0
    entry = _WORD_INFO.get(key)
    if entry is None:
        entry = _WORD_INFO[key] = (clusters, {None: (0, 0, 0)})  # the table is kept alive: its id stays its own
    return entry[1]


def word_columns(sentences: list[str], width: int, clusters: WordClusters | None = None) -> np.ndarray:
    """Per padded position: the id of the word holding the character (rjieba, jieba's
    segmentation at a fraction of the cost), its place in that word (1 B, 2 M, 3 E, 4 S;
    0 in padding), and the ids of the previous and next words (0 at sentence edges); with
    ``clusters`` (word → coarse, fine cluster) also the word's coarse and fine cluster and
    the fine clusters of the previous and next words (0: unknown word or edge).
    Shape (len(sentences) * width, 4 or 8)."""
    import rjieba

    memo = _word_info_memo(clusters)
    lengths: list[int] = []
    tokens: list[str | None] = []
    for sentence in sentences:
        words = rjieba.cut(sentence)
        lengths.append(3)
        lengths.extend(map(len, words))
        lengths.append(width - 3 - len(sentence))
        tokens.append(None)
        tokens.extend(words)
        tokens.append(None)
    missing = {w for w in tokens if w not in memo}
    if missing:
        if len(memo) > WORD_MEMO_SIZE:
            memo.clear()
            memo[None] = (0, 0, 0)
        unknown = (0, 0)
        for word in missing:
            assert word is not None
            memo[word] = (zlib.crc32(word.encode("utf-8")), *(clusters or {}).get(word, unknown))
    info = np.array([memo[w] for w in tokens], dtype=np.int64).reshape(-1, 3)
    length = np.array(lengths, dtype=np.int64)
    keep = length > 0
    info = info[keep]
    ident = info[:, 0]
    if clusters is not None:
        coarse_ids = info[:, 1]
        fine_ids = info[:, 2]
    length = length[keep]
    starts = np.concatenate([[0], np.cumsum(length)[:-1]])
    total = int(length.sum())
    place = np.full(total, 2, dtype=np.int64)
    place[starts + length - 1] = 3
    place[starts] = 1
    place[starts[length == 1]] = 4
    place[np.repeat(ident == 0, length)] = 0
    out = np.empty((total, 4 if clusters is None else 8), dtype=np.int64)
    out[:, 0] = np.repeat(ident, length)
    out[:, 1] = place
    out[:, 2] = np.repeat(np.roll(ident, 1), length)
    out[:, 3] = np.repeat(np.roll(ident, -1), length)
    if clusters is not None:
        out[:, 4] = np.repeat(coarse_ids, length)
        out[:, 5] = np.repeat(fine_ids, length)
        out[:, 6] = np.repeat(np.roll(fine_ids, 1), length)
        out[:, 7] = np.repeat(np.roll(fine_ids, -1), length)
    return out


def _char_classes(codes: np.ndarray) -> np.ndarray:
    """0 pad, 1 Han, 2 digit, 3 Latin, 4 punctuation/other."""
    cls = np.full(codes.shape, 4, dtype=np.int64)
    cls[(codes >= 0x4E00) & (codes <= 0x9FFF)] = 1
    cls[((codes >= 48) & (codes <= 57)) | ((codes >= 0xFF10) & (codes <= 0xFF19))] = 2
    cls[((codes >= 65) & (codes <= 90)) | ((codes >= 97) & (codes <= 122))] = 3
    cls[codes == PAD] = 0
    return cls


def feature_hashes(codes: np.ndarray, gazetteer: np.ndarray | None = None, words: np.ndarray | None = None) -> np.ndarray:
    """Hashed feature indices, shape (len(codes), n_templates), for one padded sequence or
    a concatenation of padded sequences (``codes`` holds 3 pads before and after each).
    ``gazetteer`` holds per position and kind the B/I/E code of a known name (0: none)."""
    n = len(codes)
    mask = (1 << HASH_BITS) - 1
    columns = []
    for template, offsets in TEMPLATES:
        value = np.full(n, template * 0x9E3779B1, dtype=np.int64)
        for offset in offsets:
            shifted = np.roll(codes, -offset)
            value = (value * 1000003) ^ shifted
        columns.append(value)
    classes = _char_classes(codes)
    value = np.full(n, CLASS_TEMPLATE, dtype=np.int64)
    for offset in (-1, 0, 1):
        value = value * 7 + np.roll(classes, -offset)
    columns.append(value * 0x85EBCA6B)
    if gazetteer is not None:
        for k in range(len(KINDS)):
            code = gazetteer[:, k]
            columns.append((GAZETTEER_TEMPLATE + k) * 0x27D4EB2F + code * 0x165667B1 + (code > 0) * np.minimum(classes, 2))
    if words is not None:
        word, place, before, after = (words[:, i] for i in range(4))
        columns.append(WORD_TEMPLATE * 0x51ED27 + word * 31)
        columns.append((WORD_TEMPLATE + 1) * 0x51ED27 + word * 31 + place)
        columns.append((WORD_TEMPLATE + 2) * 0x51ED27 + (codes * 5 + place) * 7)
        columns.append((WORD_TEMPLATE + 3) * 0x51ED27 + before * 37)
        columns.append((WORD_TEMPLATE + 4) * 0x51ED27 + after * 41)
        if words.shape[1] > 4:  # word clusters (sitegen.entities.clusters)
            coarse, fine, fine_before, fine_after = (words[:, i] for i in range(4, 8))
            columns.append(CLUSTER_TEMPLATE * 0x3C6EF372 + (coarse * 5 + place) * 13)
            columns.append((CLUSTER_TEMPLATE + 1) * 0x3C6EF372 + (fine * 5 + place) * 13)
            columns.append((CLUSTER_TEMPLATE + 2) * 0x3C6EF372 + (fine_before * 1024 + fine) * 5 + place)
            columns.append((CLUSTER_TEMPLATE + 3) * 0x3C6EF372 + (fine * 1024 + fine_after) * 5 + place)

    out = np.stack(columns, axis=1)
    out ^= out >> 29
    out *= 0x2545F491
    out ^= out >> 32
    return out & mask


def allowed_transitions() -> np.ndarray:
    """BIOES validity: ``allowed[prev, next]``."""
    allowed = np.zeros((len(TAGS), len(TAGS)), dtype=bool)
    for i, prev in enumerate(TAGS):
        for j, nxt in enumerate(TAGS):
            p_pos, p_kind = (prev.split("-") + [""])[:2]
            n_pos, n_kind = (nxt.split("-") + [""])[:2]
            if p_pos in {"B", "I"}:
                allowed[i, j] = n_pos in {"I", "E"} and n_kind == p_kind
            else:  # O, E, S
                allowed[i, j] = n_pos in {"O", "B", "S"}
    return allowed


ALLOWED = allowed_transitions()
START_ALLOWED = np.array([t.split("-")[0] in {"O", "B", "S"} for t in TAGS])
END_ALLOWED = np.array([t.split("-")[0] in {"O", "E", "S"} for t in TAGS])


_CLOSERS = np.array([i for i, t in enumerate(TAGS) if t.split("-")[0] in {"O", "E", "S"}])  # may precede O/B/S
_OPENERS = np.array([i for i, t in enumerate(TAGS) if t.split("-")[0] in {"O", "B", "S"}])  # may follow O/E/S
_INSIDE = np.array([i for i, t in enumerate(TAGS) if t.split("-")[0] in {"I", "E"}])  # I-k, E-k ...
_INSIDE_FROM_B = np.array([TAG_INDEX["B-" + TAGS[i].split("-")[1]] for i in _INSIDE])  # ... follow B-k
_INSIDE_FROM_I = np.array([TAG_INDEX["I-" + TAGS[i].split("-")[1]] for i in _INSIDE])  # ... or I-k


def _backtrack(score: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Tag paths (B, L) from the final scores (B, T) and the back-pointers (B, L, T)."""
    batch, length, _ = back.shape
    paths = np.zeros((batch, length), dtype=np.int16)
    last = score.argmax(axis=1)
    for t in range(length - 1, -1, -1):
        paths[:, t] = last
        last = back[np.arange(batch), t, last]
    return paths


def viterbi_batch(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Best tag paths for a batch: ``emissions`` (B, L, T), returns (B, L) tag indices.
    Only BIOES-valid steps are scored: O/B/S after O/E/S (a 9×9 choice) and I-k/E-k after
    B-k or I-k (a choice of two), a quarter of the full 17×17 work."""
    batch, length, tags = emissions.shape
    neg = np.float32(-1e9)
    trans = transitions.astype(np.float32)
    open_trans = trans[np.ix_(_CLOSERS, _OPENERS)][None, :, :]  # (1, 9, 9)
    from_b = trans[_INSIDE_FROM_B, _INSIDE][None, :]
    from_i = trans[_INSIDE_FROM_I, _INSIDE][None, :]
    score = np.where(START_ALLOWED, emissions[:, 0, :], neg)
    back = np.zeros((batch, length, tags), dtype=np.int16)
    new_score = np.empty_like(score)
    best_prev = np.empty((batch, tags), dtype=np.int16)
    keep = np.arange(tags, dtype=np.int16)[None, :]
    for t in range(1, length):
        candidate = score[:, _CLOSERS, None] + open_trans  # (B, 9, 9)
        choice = candidate.argmax(axis=1)
        new_score[:, _OPENERS] = np.take_along_axis(candidate, choice[:, None, :], axis=1)[:, 0, :]
        best_prev[:, _OPENERS] = _CLOSERS[choice]
        via_b = score[:, _INSIDE_FROM_B] + from_b
        via_i = score[:, _INSIDE_FROM_I] + from_i
        take_i = via_i > via_b  # ties go to the lower index (B-k), as a full argmax would
        new_score[:, _INSIDE] = np.where(take_i, via_i, via_b)
        best_prev[:, _INSIDE] = np.where(take_i, _INSIDE_FROM_I, _INSIDE_FROM_B)
        new_score += emissions[:, t, :]
        active = (t < lengths)[:, None]
        score = np.where(active, new_score, score)
        back[:, t, :] = np.where(active, best_prev, keep)
    return _backtrack(np.where(END_ALLOWED, score, neg), back)


def viterbi_reference(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """The plain full-matrix Viterbi :func:`viterbi_batch` must agree with (tests)."""
    batch, length, tags = emissions.shape
    neg = np.float32(-1e9)
    trans = np.where(ALLOWED, transitions, neg).astype(np.float32)
    score = np.where(START_ALLOWED, emissions[:, 0, :], neg)
    back = np.zeros((batch, length, tags), dtype=np.int16)
    for t in range(1, length):
        candidate = score[:, :, None] + trans[None, :, :]
        best_prev = candidate.argmax(axis=1)
        new_score = np.take_along_axis(candidate, best_prev[:, None, :], axis=1)[:, 0, :] + emissions[:, t, :]
        active = (t < lengths)[:, None]
        score = np.where(active, new_score, score)
        back[:, t, :] = np.where(active, best_prev, np.arange(tags)[None, :])
    return _backtrack(np.where(END_ALLOWED, score, neg), back)


def spans_from_tags(tags: np.ndarray, length: int) -> list[tuple[int, int, str]]:
    """``(start, end_exclusive, kind)`` spans from a BIOES tag path."""
    spans = []
    start = None
    previous = -2
    for i in np.nonzero(tags[:length])[0].tolist():
        if i != previous + 1:
            start = None
        previous = i
        tag = TAGS[int(tags[i])]
        pos, kind = tag.split("-")
        if pos == "S":
            spans.append((i, i + 1, kind))
            start = None
        elif pos == "B":
            start = i
        elif pos == "E" and start is not None:
            spans.append((start, i + 1, kind))
            start = None
    return spans


def chunk_text(text: str) -> list[tuple[int, str]]:
    """Sentences (with their offsets) short enough to tag; long ones cut at commas."""
    out = []
    offset = 0
    for sentence in _SPLIT.split(text):
        while len(sentence) > MAX_CHUNK:
            cut = max(sentence.rfind("，", 0, MAX_CHUNK), sentence.rfind(",", 0, MAX_CHUNK))
            cut = cut + 1 if cut > MAX_CHUNK // 3 else MAX_CHUNK
            out.append((offset, sentence[:cut]))
            offset += cut
            sentence = sentence[cut:]
        if sentence.strip():
            out.append((offset, sentence))
        offset += len(sentence)
    return out


@dataclass(frozen=True)
class TaggerModel:
    """Weights of the tagger: emission table and transition scores."""

    weights: np.ndarray | None  # (2**HASH_BITS, len(TAGS)) float32 while training
    transitions: np.ndarray  # (len(TAGS), len(TAGS)) float32
    gazetteer: Gazetteer = EMPTY_GAZETTEER
    quantised: np.ndarray | None = None  # int8 weights of a loaded model: 4x less memory traffic
    scale: np.ndarray | None = None  # per-tag scale of ``quantised``
    clusters: WordClusters | None = None  # word clusters the features use, if any

    def encode(self, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Emission scores (B, L, T) and lengths for a batch of sentences."""
        lengths = np.array([len(s) for s in sentences])
        longest = int(lengths.max()) if len(sentences) else 0
        width = longest + 6
        padded = "".join(PAD_CHAR * 3 + s + PAD_CHAR * (width - 3 - len(s)) for s in sentences)
        flat = np.frombuffer(padded.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        hashes = feature_hashes(flat, self.gazetteer.feature_columns(padded), word_columns(sentences, width, self.clusters))
        columns = np.ascontiguousarray(hashes.T)  # np.take on rows is ~4x faster than fancy indexing
        if self.quantised is not None and self.scale is not None:
            total = np.zeros((len(flat), len(TAGS)), dtype=np.int32)
            for column in columns:
                np.add(total, np.take(self.quantised, column, axis=0), out=total)
            emissions = total.astype(np.float32) * self.scale
        else:
            assert self.weights is not None
            emissions = np.zeros((len(flat), len(TAGS)), dtype=np.float32)
            for column in columns:
                np.add(emissions, np.take(self.weights, column, axis=0), out=emissions)
        emissions = emissions.reshape(len(sentences), width, len(TAGS))[:, 3 : 3 + longest, :]
        return emissions, lengths

    def tag(self, sentences: list[str]) -> list[list[tuple[int, int, str]]]:
        """Entity spans of each sentence."""
        results: list[list[tuple[int, int, str]]] = [[] for _ in sentences]
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for start in range(0, len(order), 256):
            batch = order[start : start + 256]
            emissions, lengths = self.encode([sentences[i] for i in batch])
            paths = viterbi_batch(emissions, lengths, self.transitions)
            for row, index in enumerate(batch):
                results[index] = spans_from_tags(paths[row], int(lengths[row]))
        return results

    def extract(self, text: str) -> list[tuple[int, int, str]]:
        """Spans ``(start, end, kind)`` over the whole text."""
        chunks = chunk_text(text)
        tagged = self.tag([c for _, c in chunks])
        return [(offset + s, offset + e, k) for (offset, _), spans in zip(chunks, tagged) for s, e, k in spans]

    def save(self) -> bytes:
        """Compact serialisation: int8 weights with a per-tag scale, zlib-compressed npz."""
        if self.quantised is not None and self.scale is not None:
            quantised, scale = self.quantised, self.scale
        else:
            assert self.weights is not None
            scale = np.abs(self.weights).max(axis=0) / 127 + 1e-12
            quantised = np.round(self.weights / scale).astype(np.int8)
        names = sorted(self.gazetteer.entries.items())
        gazetteer = "\n".join(f"{name}\t{mask}" for name, mask in names)
        buffer = BytesIO()
        np.savez_compressed(buffer, weights=quantised, scale=scale.astype(np.float32),
                            transitions=self.transitions.astype(np.float32),
                            uses_clusters=np.array(self.clusters is not None),
                            feature_set=np.array(FEATURE_SET),
                            gazetteer=np.frombuffer(gazetteer.encode("utf-8"), dtype=np.uint8))
        return buffer.getvalue()

    @classmethod
    def load(cls, data: bytes) -> TaggerModel:
        with np.load(BytesIO(data)) as npz:
            trained_on = int(npz["feature_set"]) if "feature_set" in npz.files else 1
            if trained_on != FEATURE_SET:
                raise ValueError(f"entity model trained on feature set {trained_on}, this sitegen computes "
                                 f"{FEATURE_SET}: retrain it (python -m sitegen.entities.train)")
            quantised = npz["weights"]
            scale = npz["scale"].astype(np.float32)
            entries = {}
            if "gazetteer" in npz.files:
                for line in npz["gazetteer"].tobytes().decode("utf-8").split("\n"):
                    if line:
                        name, mask = line.rsplit("\t", 1)
                        entries[name] = int(mask)
            clusters = None
            if "uses_clusters" in npz.files and bool(npz["uses_clusters"]):
                from sitegen.entities.clusters import default_clusters

                clusters = default_clusters()
                if not clusters:
                    raise RuntimeError("the entity model needs sitegen/data/word-clusters.txt.gz "
                                       "(python -m sitegen.entities.clusters)")
            return cls(None, npz["transitions"], Gazetteer(entries), quantised, scale, clusters)

    def with_names(self, names: list[tuple[str, str]]) -> TaggerModel:
        """A copy whose gazetteer also knows ``names`` (``(kind, name)``, e.g. a site's data)."""
        return TaggerModel(self.weights, self.transitions, self.gazetteer.extended(names), self.quantised, self.scale,
                           self.clusters)


@lru_cache(maxsize=1)
def default_model() -> TaggerModel:
    """The model shipped with sitegen (``sitegen/data/ner-model.npz``)."""
    data = resources.files("sitegen").joinpath("data/ner-model.npz").read_bytes()
    return TaggerModel.load(data)
