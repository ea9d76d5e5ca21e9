"""Train the entity tagger on CLUENER and write ``sitegen/data/ner-model.npz``.

    python -m sitegen.entities.train [--train ../shared/corpora/cluener/train.json] [--epochs 12]

Several runs with different shuffling seeds are averaged into one weight matrix (bagging
for free at inference time: the model stays one linear table).

CLUENER classes map to the tagger's kinds: name → PER; organization, government, company →
ORG; address → LOC; position → POS (roles such as 省长, kept to split 河南省省长王凯 into name
and role). Other classes (books, games, films, scenes) are tagged O. The run is
deterministic (fixed shuffling seed), so the committed model can be rebuilt exactly.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sitegen.entities.clusters import parse_clusters
from sitegen.entities.model import (
    HASH_BITS,
    PAD_CHAR,
    TAG_INDEX,
    TAGS,
    Gazetteer,
    TaggerModel,
    WordClusters,
    feature_hashes,
    viterbi_batch,
    word_columns,
)

Sentence = tuple[str, list[tuple[int, int, str]]]  # text and its labelled spans (start, end, kind)

CLUENER_KINDS = {"name": "PER", "organization": "ORG", "government": "ORG", "company": "ORG",
                 "address": "LOC", "position": "POS"}
DEFAULT_TRAIN = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "cluener" / "train.json"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "ner-model.npz"
DEFAULT_CLUSTERS = Path(__file__).resolve().parents[1] / "data" / "word-clusters.txt.gz"


def read_cluener(path: Path) -> list[Sentence]:
    """Sentences with gold spans ``(start, end_exclusive, kind)`` in the tagger's kinds."""
    data = []
    for line in path.open(encoding="utf-8"):
        record = json.loads(line)
        spans = []
        for label, entities in record.get("label", {}).items():
            kind = CLUENER_KINDS.get(label)
            if kind is None:
                continue
            for positions in entities.values():
                for start, end in positions:
                    spans.append((start, end + 1, kind))
        data.append((record["text"], sorted(spans)))
    return data


def gold_tags(length: int, spans: list[tuple[int, int, str]]) -> np.ndarray:
    """The BIES tag of each character; of overlapping spans the first wins."""
    tags = np.zeros(length, dtype=np.int64)
    taken = np.zeros(length, dtype=bool)
    for start, end, kind in spans:
        if taken[start:end].any():
            continue
        taken[start:end] = True
        if end - start == 1:
            tags[start] = TAG_INDEX[f"S-{kind}"]
        else:
            tags[start] = TAG_INDEX[f"B-{kind}"]
            tags[start + 1 : end - 1] = TAG_INDEX[f"I-{kind}"]
            tags[end - 1] = TAG_INDEX[f"E-{kind}"]
    return tags


def _hashes(text: str, gazetteer: Gazetteer, clusters: WordClusters | None) -> np.ndarray:
    padded = PAD_CHAR * 3 + text + PAD_CHAR * 3
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype="<u4").astype(np.int64)
    width = len(padded)
    return feature_hashes(codes, gazetteer.feature_columns(padded), word_columns([text], width, clusters))[3:-3]


def names_of(data: list[Sentence]) -> list[tuple[str, str]]:
    """The ``(kind, name)`` of every labelled name of two characters or more."""
    return [(kind, text[s:e]) for text, spans in data for s, e, kind in spans if e - s >= 2]


def train(data: list[Sentence], epochs: int, seed: int = 13, folds: int = 5,
          clusters: WordClusters | None = None) -> TaggerModel:
    """Averaged structured perceptron. Gazetteer features of a training sentence come from
    the names of the *other* folds, so the model learns how far a known name can be trusted
    on text it has not seen; the shipped gazetteer holds every training name."""
    size, n_tags = 1 << HASH_BITS, len(TAGS)
    weights = np.zeros((size, n_tags), dtype=np.float32)
    totals = np.zeros_like(weights)  # sum of step * update, for averaging
    trans = np.zeros((n_tags, n_tags), dtype=np.float32)
    trans_totals = np.zeros_like(trans)
    data = [d for d in data if d[0]]
    fold_of = [i % folds for i in range(len(data))]
    fold_gazetteers = [Gazetteer.from_names(names_of([d for d, f in zip(data, fold_of) if f != k])) for k in range(folds)]
    prepared = [(_hashes(text, fold_gazetteers[f], clusters), gold_tags(len(text), spans))
                for (text, spans), f in zip(data, fold_of)]
    rng = np.random.default_rng(seed)
    step = 1
    for epoch in range(epochs):
        started = time.perf_counter()
        mistakes = 0
        for index in rng.permutation(len(prepared)):
            hashes, gold = prepared[index]
            emissions = weights[hashes].sum(axis=1)
            pred = viterbi_batch(emissions[None], np.array([len(gold)]), trans)[0].astype(np.int64)
            wrong = np.nonzero(pred != gold)[0]
            if len(wrong):
                mistakes += len(wrong)
                rows = hashes[wrong]
                for tags, sign in ((gold[wrong], 1.0), (pred[wrong], -1.0)):
                    cols = np.broadcast_to(tags[:, None], rows.shape)
                    np.add.at(weights, (rows, cols), sign)
                    np.add.at(totals, (rows, cols), sign * step)
                for path, sign in ((gold, 1.0), (pred, -1.0)):
                    np.add.at(trans, (path[:-1], path[1:]), sign)
                    np.add.at(trans_totals, (path[:-1], path[1:]), sign * step)
            step += 1
        print(f"epoch {epoch + 1}: {mistakes} wrong tags, {time.perf_counter() - started:.1f}s", flush=True)
    return TaggerModel(weights - totals / step, trans - trans_totals / step, Gazetteer.from_names(names_of(data)),
                       clusters=clusters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seeds", type=int, default=3, help="average the weights of this many runs")
    parser.add_argument("--clusters", type=Path, default=DEFAULT_CLUSTERS,
                        help="word clusters to use as features (python -m sitegen.entities.clusters); "
                             "'none' for none")
    args = parser.parse_args()
    data = read_cluener(args.train)
    clusters = None if str(args.clusters) == "none" else parse_clusters(args.clusters.read_bytes())
    runs = [train(data, args.epochs, seed=13 + k, clusters=clusters) for k in range(args.seeds)]
    weights, transitions = np.zeros_like(runs[0].weights), np.zeros_like(runs[0].transitions)
    for run in runs:  # summed in run order, so the committed model is rebuilt bit for bit
        weights += run.weights
        transitions += run.transitions
    weights, transitions = weights / len(runs), transitions / len(runs)
    saved = TaggerModel(weights, transitions, runs[0].gazetteer, clusters=clusters).save()
    args.out.write_bytes(saved)
    print(f"wrote {args.out} ({len(saved) / 1024 / 1024:.1f} MB)")


if __name__ == "__main__":
    main()
