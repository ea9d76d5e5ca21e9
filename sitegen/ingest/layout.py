"""Where a scraped page's article is: its body lines, its headline and its date.

A page scraped whole holds its article among menus, breadcrumbs, share bars, related links,
comments and footers. Each line gets a probability of being body text from a small logistic
model over :func:`~sitegen.ingest.lines.line_features` (properties that hold across sites,
trained on the labelled pages of ``web-zh`` by ``python -m sitegen.ingest.train``). The body
is the run of lines with the highest sum of log-odds (weighted by length): body text comes
in one stretch, with chrome around it (the idea behind GNE's text density and BTE's
maximum-scoring span). The headline is chosen among the short lines just before the body
by a second logistic model (next to a date line, repeated by the page, sharing words with
the lead…), and the date is the page's own stamp nearest the headline, never one from a
sidebar or a related link. Nothing is invented: a page with no stamp has no date.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

from sitegen.ingest.dates import POSTING_TIME, Stamp, day_first, find_stamps
from sitegen.ingest.lines import FEATURES, Line, han_share, is_prose, line_features
from sitegen.ingest.rules.related_tail import is_tail_heading

MODEL_FILE = "ingest-model.json"
TITLE_FEATURES = (
    "none", "body_probability", "log_len", "han_ratio", "lines_before_body", "date_after", "date_before",
    "repeated", "lead_overlap", "ends_punct", "separators", "chrome_words", "inside_body", "nearest_candidate",
    "bracketed", "label", "length_ok", "date_on_line", "original_title", "log_distance", "body_overlap",
    "next_probability", "previous_probability", "short_words", "posted_after",
)
"""Features of a headline candidate; the first, ``none``, is set only on the choice of no
headline at all (the model ranks the candidates of a page against each other and that)."""
CHROME_WEIGHT_FLOOR = 2.0
"""A chrome line inside a stretch of body text costs at least this much (times its log-odds):
short lines would otherwise cost nothing, and comments after an article join it."""
_SENTENCE_END = re.compile(r"[。！？!?；;]$")
_INNER_STOP = re.compile(r"[。]")
"""A full stop inside a line: sentences, not a headline."""
_SEPARATOR = re.compile(r"[|｜丨>»›＞→_]")
_TITLE_PREFIX = re.compile(r"^(?:原标题|标\s*题|题\s*目|主\s*题)\s*[:：]\s*")
_POSTED_AFTER = re.compile(rf"\s*[(（\[]?{POSTING_TIME}[)）\]]?(?:\s+\S{{1,12}})?$")
"""A post's date and time (and poster) printed after its title on the title's line."""
_ORIGINAL_MARK = re.compile(r"^原创\s+(?=\S{4})")
"""The platforms' mark of an author's own post before its title (``原创 最不愁吃肉的国家：…``)."""
_REPLY = re.compile(r"^(?:#\s*)?(?:re|回复)\s*[:：]", re.I)
"""A reply's header (``# re: 标题 2004-12-27 12:46 某人``) repeats the title it answers."""
_METADATA = re.compile(r"^.{0,4}?(?:来\s*源|作\s*者|编\s*辑|记\s*者|发布|发文|索\s*引|分\s*类|文\s*号|时\s*间|日\s*期|点\s*击|"
                       r"浏\s*览|关键词|标\s*签|栏\s*目|字\s*号|摄\s*影|通讯员|责编|地\s*点|地\s*址|电\s*话|邮\s*箱|网\s*址|"
                       r"第\s*\w{1,4}\s*版)\S{0,3}\s*[:：]"
                       r"|^(?:本报|本刊|特约)?(?:记者|通讯员|实习生|撰稿|摄影|文|图)\s*[/／]?\s*[\w·]{2,4}(?:\s+[\w·]{2,4})*$")
"""Lines that are page metadata (来源：…, a byline, 第A01版：…), never a headline."""
_BRACKETED = re.compile(r"^[（(【\[].{2,}[)）】\]]$")
_ORIGINAL_TITLE = re.compile(r"^[（(【\[]?\s*原标题")
_LABEL = re.compile(r"^.{0,6}?(?:来源|作者|编辑|记者|发布|时间|日期|点击|浏览|关键词|标签|分类)\s*[:：]")
_CHROME = re.compile("登录|注册|首页|版权|分享|收藏|评论|打印|关闭|字号|返回|导航|推荐|热门|相关|更多|点击|扫描|客户端|下载|"
                     "微信|微博|客服|热线|投稿|网站地图|广告|博客|论坛|频道|专题")
TITLE_WINDOW = 40
BODY_HEAD = 8
"""Lines at the top of the body stretch looked at for the headline too (the stretch found can
begin with a few lines of furniture above the headline)."""
SHORT_PAGE_BODY = 0.3
"""A page with no stretch of likely body text takes its most likely line of running text
when it is at least this likely (a news item of one paragraph)."""
"""Lines before the body looked at for the headline."""


@dataclass(frozen=True)
class LayoutModel:
    """The weights of the line and headline models (logistic regression)."""

    line_weights: tuple[float, ...]
    title_weights: tuple[float, ...]

    def to_json(self) -> str:
        """The model as a small JSON document (what ``train`` writes)."""
        return json.dumps({"line_features": list(FEATURES), "line_weights": [round(w, 6) for w in self.line_weights],
                           "title_features": list(TITLE_FEATURES),
                           "title_weights": [round(w, 6) for w in self.title_weights]}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LayoutModel:
        """Read a model written by :meth:`to_json`; its features must be this code's."""
        data = json.loads(text)
        if tuple(data["line_features"]) != FEATURES or tuple(data["title_features"]) != TITLE_FEATURES:
            raise ValueError("the ingest model was trained for other features: rebuild it with "
                             "`python -m sitegen.ingest.train`")
        return cls(tuple(data["line_weights"]), tuple(data["title_weights"]))


@lru_cache(maxsize=1)
def default_model() -> LayoutModel:
    """The model shipped with sitegen (``sitegen/data/ingest-model.json``)."""
    return LayoutModel.from_json(resources.files("sitegen").joinpath("data", MODEL_FILE).read_text("utf-8"))


def _logistic(weights: Sequence[float], vector: Sequence[float]) -> float:
    z = sum(w * x for w, x in zip(weights, vector))
    return 1 / (1 + math.exp(-max(min(z, 30.0), -30.0)))


@dataclass(frozen=True)
class PageLayout:
    """What :func:`find_layout` found: the body's lines (first to last, by number), the
    headline's line, the page's own date stamp and the line it stands on."""

    body: tuple[Line, ...]
    title: Line | None
    stamp: Stamp | None
    stamp_line: int | None
    probabilities: tuple[float, ...]
    span: tuple[int, int] | None = None  # the stretch of body text found, before the headline is taken out

    def with_title(self, title: Line, lines: Sequence[Line]) -> PageLayout:
        """The same page with another headline (named by the page's markup): the body is
        the span without that line, and the headings between it and the span."""
        assert self.span is not None
        first, last = self.span
        if first <= title.number <= last:
            first = title.number + 1
        else:
            first = _headings_before(lines, first, title.number, self.probabilities, self.stamp_line)
        body = tuple(line for line in lines[first: last + 1]
                     if line.number != self.stamp_line or is_prose(line.text))
        return replace(self, body=body, title=title)


def body_probabilities(lines: Sequence[Line], model: LayoutModel, shared: Sequence[float] | None = None) -> list[float]:
    """The probability that each line is body text."""
    return [_logistic(model.line_weights, vector) for vector in line_features(lines, shared)]


def best_span(probabilities: Sequence[float], lines: Sequence[Line]) -> tuple[int, int] | None:
    """``(first, last)`` line of the stretch whose lines have the highest sum of log-odds of
    being body text, each weighted by its length (a long paragraph says more than a menu
    item, see :data:`CHROME_WEIGHT_FLOOR`), ended before a heading of related links or
    comments; None when no line is more likely body than not."""
    best: tuple[float, int, int] | None = None
    running, start = 0.0, 0
    scores = []
    for index, (p, line) in enumerate(zip(probabilities, lines)):
        p = min(max(p, 1e-4), 1 - 1e-4)
        odds = math.log(p / (1 - p))
        score = odds * max(math.sqrt(max(len(line.text), 1)), CHROME_WEIGHT_FLOOR if odds < 0 else 0.0)
        scores.append(score)
        if running <= 0:
            running, start = score, index
        else:
            running += score
        if running > 0 and (best is None or running > best[0]):
            best = (running, start, index)
    if best is None:  # no stretch of likely body text: a short page has one line of it, or none
        prose = [(p, index) for index, (p, line) in enumerate(zip(probabilities, lines))
                 if is_prose(line.text) and p >= SHORT_PAGE_BODY]
        return (max(prose)[1],) * 2 if prose else None
    first, last = best[1], best[2]
    # a heading of related links or comments ends the article; when the stretch holds one,
    # the article is the part between such headings with the most body text (a box of
    # related videos can stand above the article too)
    cuts = [index for index in range(first + 1, last + 1) if is_tail_heading(lines[index].text)]
    if cuts:
        parts = [(first, cuts[0] - 1)] + [(a + 1, b - 1) for a, b in zip(cuts, cuts[1:] + [last + 1])]
        first, last = max((part for part in parts if part[0] <= part[1]),
                          key=lambda part: (sum(scores[part[0]: part[1] + 1]), -part[0]))
    while last > first and probabilities[last] < 0.5:  # the stretch may end on furniture it carried along
        last -= 1
    return first, last


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def headline_text(text: str) -> str:
    """A headline line's headline: without a ``标题：`` label, an ``原创`` mark before it, or a
    post's date and time after it."""
    return _POSTED_AFTER.sub("", _ORIGINAL_MARK.sub("", _TITLE_PREFIX.sub("", text))) or text


def title_candidates(lines: Sequence[Line], span: tuple[int, int]) -> list[int]:
    """Lines that may be the headline: short lines in the window before the body and the
    body's first two lines (never a metadata line, a reply's header or more than a sentence)."""
    first = span[0]
    found = []
    for index in range(max(0, first - TITLE_WINDOW), min(first + BODY_HEAD, span[1] + 1)):
        if index >= first + 2 and any(is_prose(line.text) for line in lines[first:index]):
            break  # a heading under running text is a subheading
        text = headline_text(lines[index].text)
        if _METADATA.match(text) or _REPLY.match(text) or _INNER_STOP.search(text[:-1]):
            continue  # 来源：… 作者：… (but 标题：… is the headline, its label taken off)
        if 4 <= len(text) <= 80 and han_share(text) >= 0.2 and not _SENTENCE_END.search(text[-1:]) or (
                4 <= len(text) <= 60 and text.endswith(("？", "！", "?", "!"))):
            found.append(index)
    return found


NO_TITLE = [1.0] + [0.0] * (len(TITLE_FEATURES) - 1)
"""The feature vector of choosing no headline."""


def title_features(lines: Sequence[Line], index: int, span: tuple[int, int], probabilities: Sequence[float],
                   stamp_lines: set[int], candidates: Sequence[int]) -> list[float]:
    """One headline candidate described (see :data:`TITLE_FEATURES`)."""
    text = headline_text(lines[index].text)
    squashed = "".join(text.split())
    others = [line for line in lines[span[0]: span[1] + 1] if line.number != index]  # the text it would head
    lead = "".join("".join(line.text.split()) for line in others[:4])[:300]
    body = "".join("".join(line.text.split()) for line in others)
    grams = _bigrams(squashed)
    repeated = sum(1 for line in lines if line.number != index and squashed and squashed in "".join(line.text.split()))
    before_body = span[0] - index
    nearer = sum(1 for other in candidates if index < other < span[0])
    return [
        0.0,
        probabilities[index],
        math.log1p(len(text)),
        han_share(text),
        min(max(before_body, 0), TITLE_WINDOW) / TITLE_WINDOW,
        max((1 / (other - index) for other in stamp_lines if 0 < other - index <= 3), default=0.0),
        1.0 if any(0 < index - other <= 2 for other in stamp_lines) else 0.0,
        min(repeated, 2) / 2,
        len(grams & _bigrams(lead)) / len(grams) if grams else 0.0,
        1.0 if _SENTENCE_END.search(text[-1:]) else 0.0,
        min(len(_SEPARATOR.findall(text)), 3) / 3,
        min(len(_CHROME.findall(text)), 3) / 3,
        1.0 if before_body <= 0 else 0.0,
        1.0 if nearer == 0 and before_body > 0 else 0.0,
        1.0 if _BRACKETED.match(text) else 0.0,
        1.0 if _LABEL.match(text) else 0.0,
        1.0 if 8 <= len(squashed) <= 40 else 0.0,
        1.0 if index in stamp_lines and not _POSTED_AFTER.search(lines[index].text) else 0.0,
        1.0 if _ORIGINAL_TITLE.match(lines[index].text) else 0.5 if text != lines[index].text else 0.0,
        math.log1p(max(before_body, 0)) / math.log1p(TITLE_WINDOW),
        len({g for g in grams if g in body}) / len(grams) if grams else 0.0,
        probabilities[index + 1] if index + 1 < len(lines) else 0.0,
        probabilities[index - 1] if index > 0 else 0.0,
        _short_words(text),
        1.0 if _POSTED_AFTER.search(_TITLE_PREFIX.sub("", lines[index].text)) and text != lines[index].text else 0.0,
    ]


def _short_words(text: str) -> float:
    """1.0 for a row of three or more short words set apart by spaces (a menu, a search box's
    options: ``进入社区 搜索帖子内容 搜带图帖``), else 0.0."""
    words = text.split()
    return 1.0 if len(words) >= 3 and sorted(len(w) for w in words)[len(words) // 2] <= 4 else 0.0


def _score(weights: Sequence[float], vector: Sequence[float]) -> float:
    return sum(w * x for w, x in zip(weights, vector))


def _page_stamps(lines: Sequence[Line]) -> dict[int, list[Stamp]]:
    days_first = day_first("\n".join(line.text for line in lines if "/" in line.text))
    return {line.number: stamps for line in lines if (stamps := find_stamps(line.text, days_first))}


STAMP_WINDOW = 12
"""Lines above the body looked at for the page's date stamp when it stands by no headline."""


def _stamp_line(line: Line, stamp: Stamp) -> bool:
    """A line that carries a date as page metadata (``2019-09-07 13:43 来源：…``), not one
    that tells of a date in a sentence."""
    return len(line.text) <= 80 or stamp.start < 20


def choose_stamp(lines: Sequence[Line], span: tuple[int, int], title: int | None,
                 stamps: dict[int, list[Stamp]]) -> tuple[Stamp, int] | None:
    """The page's own date: a metadata stamp by the headline or just above the body (a
    labelled, full one first, then the nearest: below the headline, or closest above the
    body), else a dateline opening the body, else a short dated line closing it (a notice's
    signature). Stamps in menus, sidebars and related links are never looked at."""
    first = span[0]
    near: set[int] = set(range(max(0, first - STAMP_WINDOW), first + 2))
    if title is not None:
        near |= set(range(max(0, title - 2), max(title + 5, first + 2)))
    ranked: list[tuple[tuple[int, int, int], Stamp, int]] = []
    for number in sorted(n for n in near if n in stamps):
        for stamp in stamps[number]:
            if not _stamp_line(lines[number], stamp):
                continue
            if title is not None:
                distance = number - title - 1 if number > title else title - number + 3
            else:
                distance = first - number if number < first else number - first + 3
            ranked.append(((0 if stamp.labelled else 1, 0 if stamp.precision == "day" else 1, distance), stamp, number))
    if not ranked and title is not None:  # a dateline, only under a headline (a compilation's items have their own)
        for number in range(first, min(first + 2, span[1] + 1)):
            for stamp in stamps.get(number, ()):
                if stamp.precision == "day" and stamp.start < 30:
                    ranked.append(((2, 0, number), stamp, number))
    if not ranked and title is not None:
        for number in range(max(first, span[1] - 2), span[1] + 1):
            for stamp in stamps.get(number, ()):
                if stamp.precision == "day" and _stamp_line(lines[number], stamp):
                    ranked.append(((3, 0, -number), stamp, number))
    if not ranked:
        return None
    _, stamp, number = min(ranked, key=lambda r: r[0])
    return stamp, number


def _headings_before(lines: Sequence[Line], first: int, title: int, probabilities: Sequence[float],
                     stamp_line: int | None) -> int:
    """Where the body starts once the headings between the headline and the body are taken
    in (a newsletter's first item title, a subheading): heading-like lines that are not page
    furniture, the date line or a part of the headline."""
    headline = "".join(lines[title].text.split())
    while first - 1 > title:
        line = lines[first - 1]
        text = "".join(line.text.split())
        if (line.number == stamp_line or probabilities[first - 1] < 0.2 or text in headline or len(text) > 60
                or han_share(text) < 0.5 or _SENTENCE_END.search(text[-1:]) or is_tail_heading(line.text)):
            break
        first -= 1
    return first


def find_layout(lines: Sequence[Line], model: LayoutModel, shared: Sequence[float] | None = None,
                probabilities: Sequence[float] | None = None) -> PageLayout:
    """The body, headline and date of a page (see the module docs); ``probabilities``, when
    already known, are the lines' probabilities of being body text."""
    if probabilities is None:
        probabilities = body_probabilities(lines, model, shared)
    span = best_span(probabilities, lines)
    if span is None:
        return PageLayout((), None, None, None, tuple(probabilities))
    stamps = _page_stamps(lines)
    candidates = title_candidates(lines, span)
    title: int | None = None
    block: list[int] = []
    if candidates:
        scored = [(_score(model.title_weights, title_features(lines, c, span, probabilities, set(stamps), candidates)), c)
                  for c in candidates]
        threshold = _score(model.title_weights, NO_TITLE)
        # a reprint's 原标题 is its headline only when nothing else is
        shown = [s for s in scored if s[0] > threshold and not _ORIGINAL_TITLE.match(lines[s[1]].text)]
        chosen = shown or [s for s in scored if s[0] > threshold]
        if chosen:
            best = max(chosen, key=lambda s: (s[0], -s[1]))
            title = best[1]
            floor = min(best[0] - JOIN_MARGIN, threshold + CLEAR_HEADLINE)
            block = _headline_block(lines, title, span, {c: score for score, c in scored}, floor)
            title = block[-1]
    if title is not None and span[0] <= title and span[1] <= title + 1 and title + 1 < len(lines):
        # the stretch was the headline itself: the body is the likeliest stretch under it
        below = best_span(probabilities[title + 1:], lines[title + 1:])
        if below is not None and any(is_prose(line.text) for line in lines[title + 1 + below[0]: title + 2 + below[1]]):
            span = (below[0] + title + 1, below[1] + title + 1)
    found = choose_stamp(lines, span, title, stamps)
    first, last = span
    if title is not None and first <= title <= last:
        first = title + 1
    elif title is not None:
        first = _headings_before(lines, first, title, probabilities, found[1] if found else None)
    stamp_line = found[1] if found else -1
    lead: list[Line] = []
    if title is not None and title + 1 < first:
        # a paragraph between the headline and the body, cut off from it by a box of links
        lead = [line for number, line in enumerate(lines[title + 1: first], title + 1)
                if line.number != stamp_line and probabilities[number] >= LEAD_PROBABILITY
                and len(line.text) >= LEAD_CHARS and is_prose(line.text)]
    body = tuple(lead) + tuple(line for line in lines[first: last + 1] if line.number != stamp_line
                               or is_prose(line.text))
    headline: Line | None = None
    if title is not None:
        # a headline printed over several lines is one headline, on its last line
        headline = replace(lines[title], text=" ".join(headline_text(lines[n].text) for n in block))
    return PageLayout(body, headline, found[0] if found else None,
                      found[1] if found else None, tuple(probabilities), span)


LEAD_PROBABILITY = 0.5
LEAD_CHARS = 60
"""A line between the headline and the body stretch joins the body when it is running text
this long that the model finds more likely body than not."""

JOIN_MARGIN = 1.0
CLEAR_HEADLINE = 2.0
"""A line next to the headline that scores as a headline within JOIN_MARGIN of it, or clearly
as one (CLEAR_HEADLINE above choosing none), is part of it: a title and its subtitle, a long
title wrapped over lines."""
MAX_HEADLINE_LINES = 4


def _headline_block(lines: Sequence[Line], title: int, span: tuple[int, int], scores: dict[int, float],
                    floor: float) -> list[int]:
    """The lines of the headline chosen on line ``title``: it and the lines next to it, above
    the body, that score as headlines almost as well (``floor``) and are neither menus nor a
    repeat of it."""
    block = [title]

    def joins(number: int) -> bool:
        if number not in scores or scores[number] < floor or number >= span[0] and number != title:
            return False
        text, joined = "".join(lines[number].text.split()), "".join("".join(lines[n].text.split()) for n in block)
        return (not _SEPARATOR.search(lines[number].text) and han_share(text) >= 0.5
                and text not in joined and joined not in text
                and len(text) + len(joined) <= 80)

    while len(block) < MAX_HEADLINE_LINES:
        if joins(block[0] - 1):
            block.insert(0, block[0] - 1)
        elif joins(block[-1] + 1) and block[-1] + 1 < span[0]:
            block.append(block[-1] + 1)
        else:
            break
    return block
