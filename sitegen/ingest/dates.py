"""Dates in Chinese news text: find the event date an item states and resolve it to a full
date against what the document itself says (its publication date or a year it states).

A year that cannot be known from the document is never invented silently: the result says
``uncertain`` and ingest reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_FULL = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*(?:[-－—~～至到]\s*\d{1,2}\s*)?[日号]")
_ROC = re.compile(r"民国\s*(?P<y>\d{1,3})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
                  r"|(?<!\d)(?P<y2>1[01]\d)\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日")
_ISO = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_MONTH_DAY = re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*(?:[-－—~～至到]\s*\d{1,2}\s*)?[日号]")
_DAY = re.compile(r"(?<![\d月年.\-/])(?P<d>[1-9]|[12]\d|3[01])\s*日(?![本元])")
_RELATIVE = re.compile(r"日前|近日|近期|本周|今天|今日|昨天|昨日|日内")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年(?!代)")


@dataclass(frozen=True)
class DateMention:
    """The first date expression of an item, before resolution."""

    kind: str  # full | month_day | day | relative
    year: int | None = None
    month: int | None = None
    day: int | None = None


def has_date_expression(text: str) -> bool:
    """Does ``text`` state a calendar date (``2025年5月21日``, ``8月3日``, ``21日``)?"""
    return bool(_FULL.search(text) or _MONTH_DAY.search(text) or _ISO.search(text))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def first_mention(text: str) -> DateMention | None:
    """The earliest date expression in ``text`` (full, month-day, bare day or relative)."""
    candidates: list[tuple[int, DateMention]] = []
    for pattern in (_FULL, _ISO):
        if m := pattern.search(text):
            candidates.append((m.start(), DateMention("full", int(m["y"]), int(m["m"]), int(m["d"]))))
    if m := _ROC.search(text):
        year = int(m["y"] or m["y2"]) + 1911
        month, day = int(m["m"] or m["m2"]), int(m["d"] or m["d2"])
        candidates.append((m.start(), DateMention("full", year, month, day)))
    if m := _MONTH_DAY.search(text):
        candidates.append((m.start(), DateMention("month_day", None, int(m["m"]), int(m["d"]))))
    if m := _DAY.search(text):
        candidates.append((m.start(), DateMention("day", None, None, int(m["d"]))))
    if m := _RELATIVE.search(text):
        candidates.append((m.start(), DateMention("relative")))
    if not candidates:
        return None
    # a full date starting where a month-day starts is the same mention: prefer the full one
    candidates.sort(key=lambda c: (c[0], ["full", "month_day", "day", "relative"].index(c[1].kind)))
    start, mention = candidates[0]
    for other_start, other in candidates[1:]:
        if other.kind == "full" and other_start <= start + 5 and mention.kind in {"month_day", "day"}:
            return other
    return mention


def stated_years(text: str) -> list[int]:
    """Years the text states (``2025年``), in order of appearance."""
    return [int(y) for y in _YEAR.findall(text)]


def month_mentions(text: str) -> list[int]:
    """Months of the month-day expressions in ``text``."""
    return [int(m["m"]) for m in _MONTH_DAY.finditer(text)]


def resolve_month_day(month: int, day: int, reference: date) -> date | None:
    """The latest date with this month and day that is not after ``reference``."""
    candidate = _safe_date(reference.year, month, day)
    if candidate is None or candidate > reference:
        candidate = _safe_date(reference.year - 1, month, day)
    return candidate


# -- page stamps: the date a page gives itself (by its headline, in its metadata line) ---------

_MONTHS = {name: number for number, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}
_STAMP_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 2015-01-26 14:45:49, 2015/1/26, 2015.01.26, 2015年1月26日, 2015-01-2614:45 (glued to a clock)
    ("ymd", re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})(?!\d{3})")),
    ("ymd", re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?")),
    # ROC years: 109-07-26, 109年7月26日, 民国109年7月26日
    ("roc", re.compile(r"(?:民国|民國)?(?<![\d.])(?P<y>1[01]\d|9\d)(?:(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})"
                       r"|\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日)(?!\d)")),
    # 7/5/2005 (month first, as US-hosted sites print it; day first where the page shows it is)
    ("mdy", re.compile(r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>(?:19|20)\d{2})(?!\d)")),
    # 18-03-08 23:16 (a two-digit year, by a label or a clock)
    ("yy", re.compile(r"(?<![\d\-/.])(?P<y>\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?=\s+\d{1,2}:\d{2})")),
    # September 10th, 2005 / Sep 10, 2005
    ("en", re.compile(r"(?P<mn>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})")),
    # 2005年3月 (no day)
    ("ym", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月(?!\s*\d)")),
    # 10-08 12:00, 9月7日 (no year)
    ("md", re.compile(r"(?<![\d\-/.年])(?P<m>\d{1,2})-(?P<d>\d{1,2})\s+\d{1,2}:\d{2}|"
                      r"(?<![\d年])(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日")),
)
POSTING_TIME = (r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
                r"\s+\d{1,2}:\d{2}(?::\d{2})?")
"""A full date with the time of day (``2005-06-13 15:00:14``): when a post or a page was posted."""
_STAMP_LABEL = re.compile(r"(发布|发表|更新|上传|刊登|出版|发稿|录入|添加)?\s*(?<!北京)(?<!当地)(?<!美东)(?<!东部)(?<!西部)"
                          r"(时间|日期|于)\s*[:：]?\s*$|"
                          r"(posted|published|updated|date)\s*(on|:)?\s*$", re.I)


@dataclass(frozen=True)
class Stamp:
    """A date written on a page: ``precision`` says how much of it the page gives (``day``;
    ``month`` or ``year`` only; ``month_day`` without a year), ``labelled`` whether a label such
    as 发布时间： stands before it."""

    year: int | None
    month: int | None
    day: int | None
    precision: str
    start: int
    labelled: bool

    @property
    def date(self) -> date | None:
        """The full date, when the page gives year, month and day."""
        if self.precision != "day" or self.year is None or self.month is None or self.day is None:
            return None
        return _safe_date(self.year, self.month, self.day)


_SLASHED = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(?:19|20)\d{2}(?!\d)")


def day_first(text: str) -> bool:
    """Whether a page writes slashed dates day first (13/02/2022 somewhere on it) rather
    than month first (7/5/2005, as US-hosted pages do)."""
    pairs = [(int(a), int(b)) for a, b in _SLASHED.findall(text)]
    return any(a > 12 >= b for a, b in pairs) and not any(b > 12 >= a for a, b in pairs)


def find_stamps(text: str, days_first: bool = False) -> list[Stamp]:
    """Every date written in ``text`` (one line of a page), in order; overlapping forms give
    the most precise one. ``days_first``: the page writes 06/02/2022 for 6 February."""
    found: list[Stamp] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _STAMP_PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            stamp = _stamp(kind, match, text, days_first)
            if stamp is not None:
                found.append(stamp)
                taken.append((match.start(), match.end()))
    return sorted(found, key=lambda s: s.start)


def _stamp(kind: str, match: re.Match[str], text: str, days_first: bool) -> Stamp | None:
    labelled = bool(_STAMP_LABEL.search(text[max(0, match.start() - 12): match.start()]))
    if kind == "md":
        month, day = int(match["m"] or match["m2"]), int(match["d"] or match["d2"])
        if _safe_date(2000, month, day) is None:
            return None
        return Stamp(None, month, day, "month_day", match.start(), labelled)
    if kind == "ym":
        year, month = int(match["y"]), int(match["m"])
        return Stamp(year, month, None, "month", match.start(), labelled) if 1 <= month <= 12 else None
    if kind == "en":
        named = _MONTHS.get(match["mn"].lower())
        if named is None:
            return None
        year, month, day = int(match["y"]), named, int(match["d"])
    else:
        year = int(match["y"])
        month = int(match["m"] if match["m"] is not None else match["m2"])
        day = int(match["d"] if match["d"] is not None else match["d2"])
        if kind == "roc":
            if not labelled and "民国" not in match.group(0) and "民國" not in match.group(0):
                return None  # 109-07-26 is an ROC date only where a label says it is a date
            year += 1911
        elif kind == "yy":
            year += 2000 if year < 70 else 1900
        elif kind == "mdy" and days_first:
            month, day = day, month
    if _safe_date(year, month, day) is None:
        return None
    return Stamp(year, month, day, "day", match.start(), labelled)
