"""Pages that hold several posts: a blog's page of recent posts, an archive month.

Such a page gives each post a header line of its own — the post's title and the full date
and time it was posted (``澳坛真的累了  2005-06-13 15:00:14``) — followed by the post's
text. A page whose running text is cut into two or more stretches by such headers, each
with a different title and time and each followed by prose, is read as that many items; any
other page is one article (:mod:`sitegen.ingest.layout`). A comment thread is not cut into
posts: a comment's header names a person, not a title, and comes after the article's body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sitegen.ingest.dates import POSTING_TIME, Stamp, find_stamps
from sitegen.ingest.lines import Line, han_share, is_prose

_HEADER = re.compile(rf"^(?P<title>\S.{{2,78}}?)\s*[(（\[【]?(?P<posted>{POSTING_TIME})[)）\]】]?$"
                     rf"|^[(（\[【]?(?P<posted2>{POSTING_TIME})[)）\]】]?\s*(?P<title2>\S.{{2,78}})$")
_LABEL = re.compile(r"(?:发表|发布|张贴|回复|评论|作者|来源|更新|时间|日期|字号|编辑)\s*[:：]|^.{0,8}?(?:发表|发布|张贴|回复)|@")
_SENTENCE = re.compile(r"[。；;]")  # a sentence that happens to end on a time is no title
MIN_TITLE = 4
"""A post title has at least this many characters (a user name or a floor number has fewer)."""


@dataclass(frozen=True)
class Post:
    """One post of a page: its header's title and date, and the lines after the header up to
    the next one."""

    title: str
    posted: str  # the date and time as the header gives them
    stamp: Stamp
    lines: tuple[Line, ...]


def _header(line: Line) -> tuple[str, str, Stamp] | None:
    """The title and posting date of a post header line, if ``line`` is one."""
    found = _HEADER.match(line.text)
    if found is None:
        return None
    title = (found["title"] or found["title2"] or "").strip()
    posted = found["posted"] or found["posted2"] or ""
    stamps = [s for s in find_stamps(posted) if s.date is not None]
    squashed = "".join(title.split())
    if (not stamps or len(squashed) < MIN_TITLE or han_share(squashed) < 0.3 or _LABEL.search(title)
            or _SENTENCE.search(title)):
        return None
    return title, " ".join(posted.split()), stamps[0]


def find_posts(lines: Sequence[Line], body_start: int | None) -> list[Post]:
    """The posts of a page of posts, in page order; an empty list for any other page.
    ``body_start``: the first line of the page's likeliest stretch of body text (posts begin
    no later than it: headers after an article are comments)."""
    headers = [(line.number, found) for line in lines if (found := _header(line)) is not None]
    if len(headers) < 2 or body_start is None or headers[0][0] > body_start + 1:
        return []
    posts = []
    for index, (number, (title, posted, stamp)) in enumerate(headers):
        end = headers[index + 1][0] if index + 1 < len(headers) else len(lines)
        text = lines[number + 1: end]
        if not any(is_prose(line.text) for line in text[:4]):
            return []  # a list of dated links, not posts
        posts.append(Post(title, posted, stamp, tuple(text)))
    if len({post.title for post in posts}) < len(posts) or len({post.posted for post in posts}) < len(posts):
        return []  # the same title or time again: a list repeated, not posts
    return posts
