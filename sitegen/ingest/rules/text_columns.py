"""Undo side-by-side columns in a text dump: a page laid out as a table (a sidebar beside the
article, 2000s portals and blogs) comes out of a whole-page text dump (inscriptis, lynx -dump)
with both columns on the same lines, the right one padded to a fixed character position.
When many lines break at one position (a run of spaces ending there, or the line starting
there), each stretch of such lines is read as its left column, then its right column. Any
other line padded wide apart (a menu item and a headline) becomes two lines."""

import re
from collections import Counter

from sitegen.ingest.cleaned import Cleaned

MIN_COLUMN = 20
"""A column starts at least this many characters in (indentation below it is just indentation)."""
SLACK = 3
"""Padding differs by a few characters from line to line (a wide character counted once)."""
_GAP = re.compile(r"(?<=\S) {3,}(?=\S)")
WIDE_GAP = 20
"""Padding this wide never separates the words of one text: the parts are two texts."""
_WIDE = re.compile(rf"(?<=\S) {{{WIDE_GAP},}}(?=\S)")


def _column(lines: list[str]) -> int | None:
    """The character position most lines break at, if the page has one."""
    breaks, starts = Counter[int](), Counter[int]()
    nonblank = 0
    for line in lines:
        if not line.strip():
            continue
        nonblank += 1
        indent = len(line) - len(line.lstrip(" "))
        if indent >= MIN_COLUMN:
            starts[indent] += 1
        gaps = _GAP.findall(line)
        if len(gaps) == 1:  # two columns side by side (a table row has more gaps)
            gap = _GAP.search(line)
            assert gap is not None
            if gap.end() >= MIN_COLUMN:
                breaks[gap.end()] += 1
    best: tuple[int, int] | None = None
    for position in sorted(set(breaks) | set(starts)):
        near = range(position - SLACK, position + SLACK + 1)
        split = sum(breaks[p] for p in near)
        total = split + sum(starts[p] for p in near)
        # lines that really hold two columns, and enough of the page
        if split >= 5 and total >= max(10, nonblank // 10) and (best is None or total > best[1]):
            best = (position, total)
    return best[0] if best else None


def _cut(line: str, column: int) -> tuple[str, str] | None:
    """``line`` as (left, right) when it breaks near ``column``; None when its text runs across."""
    indent = len(line) - len(line.lstrip(" "))
    if indent >= column - SLACK:
        return "", line
    if len(line.rstrip()) <= column + SLACK:
        return line, ""
    gaps = list(_GAP.finditer(line))
    if len(gaps) == 1 and abs(gaps[0].end() - column) <= SLACK:  # more gaps: a table row
        return line[:gaps[0].start()], line[gaps[0].end():]
    return None


def apply(doc: Cleaned) -> Cleaned:
    lines = doc.text.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    column = _column(lines)
    if column is None:
        if not any(_WIDE.search(line) for line in lines):
            return doc
        return doc.with_text("\n".join(_WIDE.sub("\n", line) for line in lines))
    out: list[str] = []
    band: list[str] = []  # the lines since the last full-width one, as they stand
    left: list[str] = []
    right: list[str] = []
    side_by_side = 0

    def flush() -> None:
        nonlocal side_by_side
        if side_by_side >= 2:  # a stretch that really has two columns
            out.extend(left)
            out.append("")
            out.extend(right)
            out.append("")
        else:  # a centred headline or a short line is not a column
            out.extend(band)
        band.clear()
        left.clear()
        right.clear()
        side_by_side = 0

    for line in lines:
        if not line.strip():
            band.append("")
            left.append("")
            right.append("")
            continue
        cut = _cut(line, column)
        if cut is None:  # a full-width line ends the stretch of columns
            flush()
            out.append(_WIDE.sub("\n", line))
            continue
        band.append(line)
        if cut[0].strip():
            left.append(cut[0].rstrip())
        if cut[1].strip():
            right.append(cut[1].strip())
        side_by_side += bool(cut[0].strip() and cut[1].strip())
    flush()
    return doc.with_text("\n".join(out))
