"""Train the ingest layout model (:mod:`sitegen.ingest.layout`) on labelled pages.

    python -m sitegen.ingest.train [--corpus ../shared/corpora/web-zh] [--out sitegen/data/ingest-model.json]

The corpus is ``web-zh`` (real pages of 72 sites, see its README): ``txt/`` whole-page text
dumps, ``labels.yaml`` (headlines, dates, strings that must go or stay) and ``body/`` (the
article text of 53 pages). Each line gets a label: body when the page's reference text holds
it; otherwise body when it lies in the stretch of running text around the ``must_keep``
strings, chrome when it holds a ``must_drop`` string or lies outside; a list page has no
body. Headline candidates are labelled by the page's headline. Both models are logistic
regressions fitted by Newton's method with a little L2 regularisation: the same corpus gives
the same weights (to the rounding written), in seconds.
"""

from __future__ import annotations

import argparse
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.ingest.dates import find_stamps
from sitegen.ingest.layout import (
    NO_TITLE,
    LayoutModel,
    best_span,
    body_probabilities,
    title_candidates,
    title_features,
)
from sitegen.ingest.lines import Line, is_prose, line_features, page_lines, shared_lines

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "web-zh"
DEFAULT_OUT = REPO / "sitegen" / "data" / "ingest-model.json"
L2 = 1.0


def squash(text: str) -> str:
    """NFKC without whitespace: how labels and page text are compared."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def site_of(name: str) -> str:
    """The site of a labelled page (``n163_01.txt`` → ``n163``)."""
    return re.sub(r"_\d+(\.\w+)?$", "", name)


@dataclass(frozen=True)
class LabelledPage:
    """A page of the corpus as ingest sees it, with what is known of each line."""

    name: str
    lines: tuple[Line, ...]
    line_labels: tuple[int | None, ...]  # 1 body, 0 chrome, None unknown
    titles: tuple[dict[str, Any], ...]  # the label's items (title / title_has)
    items: int


def load_corpus(corpus: Path = DEFAULT_CORPUS) -> list[LabelledPage]:
    """Every labelled page of ``corpus`` (see the module docs), repaired as ingest repairs
    text before it looks for the article."""
    import yaml

    from sitegen.ingest.clean import repair_ruler

    labels = yaml.safe_load((corpus / "labels.yaml").read_text("utf-8"))["pages"]
    ruler = repair_ruler()
    pages = []
    for name in sorted(labels):
        label = labels[name]
        lines = page_lines(ruler.run((corpus / "txt" / name).read_text("utf-8")).text)
        reference = corpus / "body" / name
        pages.append(LabelledPage(name, tuple(lines), tuple(_line_labels(lines, label, reference)),
                                  tuple(label.get("item_list") or ()), int(label.get("items", 0))))
    return pages


def _line_labels(lines: Sequence[Line], label: dict[str, Any], reference: Path) -> list[int | None]:
    if int(label.get("items", 0)) == 0:
        return [0] * len(lines)
    squashed = [squash(line.text) for line in lines]
    drops = [squash(s) for s in label.get("must_drop") or []]
    keeps = [squash(s) for s in label.get("must_keep") or []]
    found: list[int | None] = [None] * len(lines)
    if reference.exists():
        body = squash(reference.read_text("utf-8"))
        for index, text in enumerate(squashed):
            grams = {text[i:i + 4] for i in range(max(1, len(text) - 3))}
            found[index] = 1 if text in body or sum(g in body for g in grams) >= 0.7 * len(grams) else 0
    else:
        anchors = [i for i, text in enumerate(squashed) if any(k in text for k in keeps)]
        if anchors:
            low, high = min(anchors), max(anchors)
            while low > 0 and is_prose(lines[low - 1].text) and not any(d in squashed[low - 1] for d in drops):
                low -= 1
            while high + 1 < len(lines) and is_prose(lines[high + 1].text) and not any(
                    d in squashed[high + 1] for d in drops):
                high += 1
            found = [1 if low <= i <= high else 0 for i in range(len(lines))]
    for index, text in enumerate(squashed):
        if any(d in text for d in drops):
            found[index] = 0
        elif any(k in text for k in keeps):
            found[index] = 1
    return found


def title_matches(spec: dict[str, Any], text: str) -> bool:
    """Whether ``text`` is the labelled headline (exactly, or holding every ``title_has`` word)."""
    title = squash(re.sub(r"^(?:原标题|标题)\s*[:：]\s*", "", text))
    if "title" in spec:
        return title == squash(str(spec["title"]))
    words = [squash(str(w)) for w in spec.get("title_has") or []]
    return bool(words) and all(w in title for w in words)


def fit_logistic(rows: Sequence[Sequence[float]], targets: Sequence[int], weights: Sequence[float],
                 l2: float = L2) -> tuple[float, ...]:
    """Weights of a logistic regression (the first column is the bias, not regularised)."""
    x = np.asarray(rows, dtype=float)
    y = np.asarray(targets, dtype=float)
    w = np.asarray(weights, dtype=float)
    beta = np.zeros(x.shape[1])
    penalty = l2 * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (w * (p - y)) + penalty @ beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return tuple(float(b) for b in beta)


def fit_choice(choices: Sequence[tuple[Sequence[Sequence[float]], int]], l2: float = L2) -> tuple[float, ...]:
    """Weights of a conditional logit: for each page, the probability of the right option
    among its options is the softmax of their scores (McFadden's choice model), maximised by
    Newton's method with L2 regularisation."""
    size = len(choices[0][0][0])
    beta = np.zeros(size)
    sets = [(np.asarray(options, dtype=float), right) for options, right in choices]
    for _ in range(50):
        gradient = l2 * beta
        hessian = l2 * np.eye(size)
        for x, right in sets:
            scores = x @ beta
            p = np.exp(scores - scores.max())
            p /= p.sum()
            mean = p @ x
            gradient -= x[right] - mean
            hessian += (x * p[:, None]).T @ x - np.outer(mean, mean)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return tuple(float(b) for b in beta)


def _fit_lines(pages: Sequence[LabelledPage]) -> tuple[float, ...]:
    """The line model fitted on ``pages``: lines weigh as the span weighs them (the square
    root of their length) and the two classes weigh the same."""
    shared = shared_lines([page.lines for page in pages])
    rows, targets, sizes = [], [], []
    for page, page_shared in zip(pages, shared):
        for line, vector, label in zip(page.lines, line_features(page.lines, page_shared), page.line_labels):
            if label is not None:
                rows.append(vector)
                targets.append(label)
                sizes.append(math.sqrt(len(line.text)))
    body = sum(s for s, t in zip(sizes, targets) if t)
    chrome = sum(s for s, t in zip(sizes, targets) if not t)
    return fit_logistic(rows, targets, [s if t else s * body / chrome for s, t in zip(sizes, targets)])


def train(pages: Sequence[LabelledPage]) -> LayoutModel:
    """Fit the models on ``pages``: the line model, then the headline model."""
    shared = shared_lines([page.lines for page in pages])
    line_model = LayoutModel(_fit_lines(pages), ())
    choices: list[tuple[list[list[float]], int]] = []  # each page's options (no headline first) and the right one
    for page, page_shared in zip(pages, shared):
        probabilities = body_probabilities(page.lines, line_model, page_shared)
        span = best_span(probabilities, page.lines)
        if span is None or page.items != 1 or not page.titles or not ({"title", "title_has"} & set(page.titles[0])):
            continue
        candidates = title_candidates(page.lines, span)
        stamp_lines = {line.number for line in page.lines if find_stamps(line.text)}
        options = [NO_TITLE] + [title_features(page.lines, index, span, probabilities, stamp_lines, candidates)
                                for index in candidates]
        right = next((n + 1 for n, index in enumerate(candidates)
                      if title_matches(page.titles[0], page.lines[index].text)), 0)
        choices.append((options, right))
    title_weights = fit_choice(choices) if choices else ()
    return LayoutModel(line_model.line_weights, title_weights)


def without_sites(pages: Iterable[LabelledPage], sites: set[str]) -> list[LabelledPage]:
    """The pages of every site but ``sites`` (for leave-site-out measurement)."""
    return [page for page in pages if site_of(page.name) not in sites]


def main(argv: list[str] | None = None) -> int:
    """Train on the corpus and write the model."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    pages = load_corpus(args.corpus)
    model = train(pages)
    args.out.write_text(model.to_json(), "utf-8")
    print(f"wrote {args.out}: {len(pages)} pages, {sum(len(p.lines) for p in pages)} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
