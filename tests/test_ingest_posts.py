"""A page of several posts (a blog's archive page) becomes one item per post; a page whose
article is followed by dated comments stays one item (sitegen/ingest/posts.py)."""

from __future__ import annotations

from datetime import date

from sitegen.errors import Diagnostics
from sitegen.ingest.pipeline import IngestReport, plan
from tests.conftest import CORPORA, need_shared


def _pages(name: str):
    return plan([CORPORA / "web-zh" / "txt" / name], Diagnostics(echo=False), IngestReport())


def test_a_blog_page_of_four_posts_gives_four_items():
    need_shared()
    pages = _pages("wenxuecity_02.txt")
    assert [(p.front.title, p.front.date) for p in pages] == [
        ("昨天去金矿玩 （图）", date(2005, 3, 21)),
        ("长发剪了，感觉很轻松", date(2005, 3, 18)),
        ("SBS 回来，感觉澳洲在进步", date(2005, 3, 18)),
        ("雪意， 雪花，雪景 （图）", date(2005, 3, 15)),
    ]
    assert [p.origin.rsplit("#", 1)[1] for p in pages] == ["1", "2", "3", "4"]
    first = pages[0].body
    assert first.startswith("距墨尔本西北约110公里处") and "由海姑娘张贴" not in first and "[打印]" not in first
    assert "最近，在北美的" in pages[3].body and "文学城" not in pages[3].body


def test_an_article_followed_by_dated_comments_stays_one_item():
    need_shared()
    for name in ("n163_01.txt", "n163_05.txt", "guancha_02.txt"):
        assert len(_pages(name)) == 1, name
