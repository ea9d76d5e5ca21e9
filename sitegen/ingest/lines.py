"""A scraped page as lines, and what each line looks like.

:func:`page_lines` turns a document's text into :class:`Line` records (text without
indentation or list bullets, and whether a blank line came before). :func:`line_features`
describes each line by properties that hold across sites, not by words of one site: its
length, its share of Han characters, sentence punctuation, the density of Chinese function
words (jusText's stop-word idea), link and menu marks, digits and dates, and the same for
its neighbours (a line of body text sits among body text, a menu item among menu items).
The line classifier of :mod:`sitegen.ingest.layout` weighs them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sitegen.text import HAN

_BULLET = re.compile(r"^(?:[*+•·▪◦●○◆◇▶►-]|\d{1,2}[.、)]|[（(]\d{1,2}[)）])\s+(?=\S)")
_HAN = re.compile(f"[{HAN}]")
_SENTENCE_END = re.compile(r"[。！？!?；;…]")
_COMMA = re.compile(r"[，、,：:]")
_DIGIT = re.compile(r"\d")
_LATIN = re.compile(r"[A-Za-z]")
_SEPARATOR = re.compile(r"[|｜丨>»›/＞→]|&gt;")
_BRACKETS = re.compile(r"[【】\[\]〔〕]")
_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|\d{1,2}月\d{1,2}日"
                   r"|(?<!\d)\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}")
_CLOCK = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
_URL = re.compile(r"https?://|www\.|\.com\b|\.cn\b|@\w+\.")
_LABEL = re.compile(r"^.{0,6}?(?:来源|作者|编辑|责任编辑|记者|发布时间|发布日期|更新时间|时间|日期|点击|浏览|阅读|字号|"
                    r"关键词|标签|分类|栏目|出处|原标题|摄影|审核|通讯员)\s*[:：]")
_LOG_LINES = math.log1p(200)
_PHRASE_END = frozenset("，。！？；：、…,!?;")
_FUNCTION = frozenset("的了是在和与对为也将等及其而并但这那被把从以于向就都还又所之着过给让使由个中我他她们你")
_CHROME_WORDS = re.compile(
    "登录|注册|首页|版权|所有|copyright|©|ICP|备案|公网安备|分享|收藏|评论|跟贴|回复|举报|打印|关闭|字号|"
    "上一篇|下一篇|返回|顶部|导航|频道|专题|推荐|热门|热点|排行|相关|阅读|更多|点击|扫描|扫一扫|二维码|关注|"
    "客户端|下载|微信|微博|客服|热线|投稿|联系我们|关于我们|网站地图|广告|免责|声明|隐私|帮助|订阅|在线|加载|"
    "责任编辑|编辑|来源|作者|浏览|次数|人气|点赞|转发|播放|视频|图片|图集|标签|博客|论坛|留言",
    re.I,
)
FEATURES = (
    "bias", "log_len", "han_ratio", "sentence_marks", "commas", "ends_sentence", "function_density", "digit_ratio",
    "latin_ratio", "has_date", "has_clock", "separators", "brackets", "bullet", "chrome_words", "label", "url",
    "short_run", "lines_before", "lines_after", "repeated", "shared", "prev_log_len", "prev_sentence", "next_log_len",
    "next_sentence",
    "window_prose", "gap_before", "title_like", "window_phrases",
)
"""The name of each feature, in the order of :func:`line_features`' vectors."""



@dataclass(frozen=True)
class Line:
    """One non-blank line of a page: its text (no indentation, no list bullet), whether it
    had a bullet, and whether a blank line came before it."""

    number: int  # position among the page's non-blank lines
    text: str
    bullet: bool
    gap_before: bool


def page_lines(text: str) -> list[Line]:
    """The non-blank lines of ``text``."""
    lines: list[Line] = []
    gap = False
    for raw in text.split("\n"):
        stripped = raw.strip()
        if not stripped:
            gap = True
            continue
        bare = _BULLET.sub("", stripped, count=1)
        lines.append(Line(len(lines), bare.strip(), bare != stripped, gap))
        gap = False
    return lines


def is_prose(text: str) -> bool:
    """A line that reads as running text: long enough, mostly Han, with commas or a full stop."""
    return len(text) >= 20 and bool(_COMMA.search(text) or _SENTENCE_END.search(text)) and han_share(text) >= 0.5


def han_share(text: str) -> float:
    """The share of Han characters among the non-space characters of ``text``."""
    chars = len(text) - text.count(" ")
    return len(_HAN.findall(text)) / chars if chars else 0.0


def _own(text: str, bullet: bool) -> list[float]:
    """The features a line has by itself (see :data:`FEATURES`)."""
    length = len(text)
    han = len(_HAN.findall(text))
    per = max(length, 1)
    sentence = len(_SENTENCE_END.findall(text))
    return [
        math.log1p(length),
        han / per,
        min(sentence * 20 / per, 3.0),
        min(len(_COMMA.findall(text)) * 20 / per, 3.0),
        1.0 if text[-1:] in "。！？!?…”」』\"" else 0.0,
        sum(1 for ch in text if ch in _FUNCTION) / han if han else 0.0,
        len(_DIGIT.findall(text)) / per,
        len(_LATIN.findall(text)) / per,
        min(len(_DATE.findall(text)) * 20 / per, 1.0),
        min(len(_CLOCK.findall(text)) * 20 / per, 1.0),
        min(len(_SEPARATOR.findall(text)) * 20 / per, 1.0),
        min(len(_BRACKETS.findall(text)) * 20 / per, 1.0),
        1.0 if bullet else 0.0,
        min(len(_CHROME_WORDS.findall(text)) * 20 / per, 1.0),
        1.0 if _LABEL.match(text) else 0.0,
        min(len(_URL.findall(text)) * 20 / per, 1.0),
    ]


def line_features(lines: Sequence[Line], shared: Sequence[float] | None = None) -> list[list[float]]:
    """One vector per line, in :data:`FEATURES` order. ``shared``: for each line, how much it
    is repeated in the other documents read with it (0 when unknown; see :func:`shared_lines`)."""
    own = [_own(line.text, line.bullet) for line in lines]
    counts = Counter(line.text for line in lines)
    short = [len(line.text) < 15 for line in lines]
    runs = [0] * len(lines)
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and short[end] == short[start]:
            end += 1
        for index in range(start, end):
            runs[index] = end - start if short[start] else 0
        start = end
    prose = [1.0 if is_prose(line.text) else 0.0 for line in lines]
    # text set one phrase per line (a phone-first article): each line ends on punctuation
    phrases = [1.0 if line.text[-1:] in _PHRASE_END and _HAN.search(line.text) else 0.0 for line in lines]
    total = max(len(lines) - 1, 1)
    vectors = []
    for index, line in enumerate(lines):
        mine = own[index]
        before = own[index - 1] if index > 0 else None
        after = own[index + 1] if index + 1 < len(lines) else None
        window = prose[max(0, index - 3): index + 4]
        vectors.append([
            1.0, *mine,
            math.log1p(runs[index]) / 3,
            math.log1p(index) / _LOG_LINES,
            math.log1p(total - index) / _LOG_LINES,
            1.0 if counts[line.text] > 1 else 0.0,
            0.0 if shared is None else shared[index],
            before[0] if before else 0.0, before[2] if before else 0.0,
            after[0] if after else 0.0, after[2] if after else 0.0,
            sum(window) / len(window),
            1.0 if line.gap_before else 0.0,
            1.0 if 5 <= len(line.text) <= 40 and not _SENTENCE_END.search(line.text[-1:]) and mine[1] > 0.6 else 0.0,
            sum(phrases[max(0, index - 3): index + 4]) / len(window),
        ])
    return vectors


def shared_lines(documents: Sequence[Sequence[Line]]) -> list[list[float]]:
    """For each line of each document, how many *other* documents hold the same line (0 to 1,
    saturating at three): menus, footers and widgets repeat from page to page of a site,
    articles do not."""
    holders: Counter[str] = Counter()
    for lines in documents:
        holders.update({line.text for line in lines if len(line.text) >= 2})
    return [[min((holders[line.text] - 1) / 3, 1.0) if len(line.text) >= 2 else 0.0 for line in lines]
            for lines in documents]
