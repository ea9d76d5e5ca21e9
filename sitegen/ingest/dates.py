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
_ROC = re.compile(r"民国\s*(?P<y>\d{1,3})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]|(?<!\d)(?P<y2>1[01]\d)\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日")
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


@dataclass(frozen=True)
class ResolvedDate:
    """A resolved date and whether its year is known from the document."""

    value: date
    uncertain: bool


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
