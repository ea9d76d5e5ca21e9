"""Word clusters learned from unlabelled Chinese text, a feature of the entity tagger.

    python -m sitegen.entities.clusters [--out sitegen/data/word-clusters.txt.gz]

Words that appear in the same contexts land in the same cluster (院长/校长/主任; 福州/济南/
乌鲁木齐), so the tagger can generalise from the names it was trained on to names it has never
seen, the classic semi-supervised aid to a linear tagger. Text: the CCTV 新闻联播 records of
``../shared/corpora/cctv_xwlb/items_by_month/`` and the sentences of CLUENER ``train.json``
(never dev). Words are rjieba's. Each word of at least ``--min-count`` occurrences gets a
vector from positive PMI with the words around it (±2), reduced by truncated SVD; k-means
then groups the vectors at two granularities (coarse and fine), each a separate feature.
The run is deterministic (fixed seeds), so the committed file can be rebuilt exactly.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from sitegen.entities.model import WordClusters

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "word-clusters.txt.gz"
_MARKUP = re.compile(r"<!--.*?-->|\*\*|<[^>]+>")
_SENTENCE = re.compile(r"[^\n。！？]+")


def corpus_sentences(shared: Path = SHARED) -> list[str]:
    """Sentences of the unlabelled text (CCTV records, CLUENER train sentences)."""
    sentences: list[str] = []
    for path in sorted((shared / "cctv_xwlb" / "items_by_month").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            text = _MARKUP.sub("", f"{record.get('title', '')}\n{record.get('text', '')}")
            sentences.extend(_SENTENCE.findall(text))
    for line in (shared / "cluener" / "train.json").open(encoding="utf-8"):
        sentences.append(json.loads(line)["text"])
    return [s.strip() for s in sentences if s.strip()]


def learn_clusters(sentences: list[str], min_count: int, dims: int, sizes: tuple[int, int], seed: int = 7) -> WordClusters:
    """Coarse and fine cluster ids (``sizes`` clusters) of every word seen ``min_count`` times."""
    import rjieba
    from scipy.cluster.vq import kmeans2
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import svds

    started = time.perf_counter()
    tokenised = [rjieba.cut(s) for s in sentences]
    counts = Counter(w for words in tokenised for w in words)
    vocabulary = sorted((w for w, n in counts.items() if n >= min_count and w.strip()), key=lambda w: (-counts[w], w))
    index = {w: i + 1 for i, w in enumerate(vocabulary)}  # 0: rare word or sentence edge
    ids = np.array([i for words in tokenised for i in [0, 0, *(index.get(w, 0) for w in words)]] + [0, 0], dtype=np.int64)
    print(f"{len(sentences)} sentences, {len(ids)} tokens, {len(vocabulary)} words "
          f"({time.perf_counter() - started:.0f}s)", flush=True)
    size = len(vocabulary) + 1
    contexts = min(size, 20000)  # context words: the most frequent ones, position kept (left/right)
    rows, cols = [], []
    for position, offset in enumerate((-2, -1, 1, 2)):
        other = np.roll(ids, -offset)
        keep = (ids > 0) & (other > 0) & (other < contexts)
        rows.append(ids[keep])
        cols.append(other[keep] + position * contexts)
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    matrix = coo_matrix((np.ones(len(row), dtype=np.float64), (row, col)), shape=(size, 4 * contexts)).tocsr()
    matrix.sum_duplicates()
    total = matrix.sum()
    word_totals = np.asarray(matrix.sum(axis=1)).ravel()
    context_totals = np.asarray(matrix.sum(axis=0)).ravel() ** 0.75  # context distribution smoothing
    context_totals *= total / context_totals.sum()
    coo = matrix.tocoo()
    pmi = np.log(coo.data * total / (word_totals[coo.row] * context_totals[coo.col]))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape).tocsr()
    u, s, _ = svds(ppmi, k=dims, random_state=seed)
    vectors = u * np.sqrt(s)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    print(f"vectors {vectors.shape} ({time.perf_counter() - started:.0f}s)", flush=True)
    assignments = []
    for k in sizes:
        _, labels = kmeans2(vectors[1:], k, minit="++", seed=seed, iter=30)
        assignments.append(labels)
    print(f"clusters {sizes} ({time.perf_counter() - started:.0f}s)", flush=True)
    coarse, fine = assignments
    return {w: (int(coarse[i]) + 1, int(fine[i]) + 1) for i, w in enumerate(vocabulary)}


def save_clusters(clusters: WordClusters, path: Path) -> None:
    """Write ``word<TAB>id<TAB>id…`` lines, sorted, gzip with no name and a fixed timestamp (reproducible)."""
    text = "".join(f"{w}\t" + "\t".join(map(str, c)) + "\n" for w, c in sorted(clusters.items()))
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=9) as out:
        out.write(text.encode("utf-8"))


def parse_clusters(data: bytes) -> WordClusters:
    """The table written by :func:`save_clusters`."""
    out: WordClusters = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        word, coarse, fine = line.split("\t")
        out[word] = (int(coarse), int(fine))
    return out


@lru_cache(maxsize=1)
def default_clusters() -> WordClusters:
    """The shipped table (``sitegen/data/word-clusters.txt.gz``); empty when absent."""
    resource = resources.files("sitegen").joinpath("data/word-clusters.txt.gz")
    return parse_clusters(resource.read_bytes()) if resource.is_file() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--dims", type=int, default=100)
    parser.add_argument("--coarse", type=int, default=64, help="number of coarse clusters")
    parser.add_argument("--fine", type=int, default=512, help="number of fine clusters")
    args = parser.parse_args()
    clusters = learn_clusters(corpus_sentences(), args.min_count, args.dims, (args.coarse, args.fine))
    save_clusters(clusters, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB, {len(clusters)} words)")


if __name__ == "__main__":
    main()
