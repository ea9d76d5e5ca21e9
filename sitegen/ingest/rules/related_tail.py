"""Cut a 相关阅读 / 延伸阅读 / 相关新闻 / 推荐阅读 link list, a 网友评论 comment area, a
版权声明 / 免责声明 notice, and everything after it: what follows such a heading on scraped pages is the host site's
unrelated links and readers' comments."""

import re

from sitegen.ingest.cleaned import Cleaned

TAIL_WORDS = ("相关阅读|延伸阅读|相关新闻|相关报道|相关搜索|热点新闻|推荐阅读|相关文章|更多阅读|相关推荐|热门推荐|"
              "猜你喜欢|更多新闻|热门文章|相关链接|网友评论|热门评论|最新评论|全部评论|精彩评论|发表评论|我要评论|评论区|往期回顾|精彩推荐|热点推荐|"
              "为您推荐|大家都在看|今日推荐|热门排行|排行榜|阅读排行|相关事件|相关专题|相关话题|"
              "版权声明|免责声明|法律声明|侵权声明|反侵权公告|版权说明|评论|留言|读者评论|用户评论|评论列表|网友留言|读者留言")
"""Headings of what follows an article on a page: related links, comments, rankings, the
site's legal notices."""
_TAIL_HEADING = re.compile(
    rf"^[【\[〔「<《]?\s*({TAIL_WORDS})\s*[】\]〕」>》]?\s*[:：>»]*\s*(\(\d+\)|（\d+）|\d+\s*条)?\s*$"
)


_LEGAL_HEADING = re.compile(r"^.{0,12}?(?:版权与免责声明|版权声明|免责声明|法律声明|侵权声明)\s*[:：]?\s*$")
"""A site's legal notice heading, its name first (振兴东北网版权与免责声明：)."""


def is_tail_heading(line: str) -> bool:
    """Whether ``line`` heads what follows an article (相关阅读, 网友评论 …)."""
    return bool(_TAIL_HEADING.match(line.strip()) or _LEGAL_HEADING.match(line.strip()))


def apply(doc: Cleaned) -> Cleaned:
    lines = doc.lines()
    for index, line in enumerate(lines):
        if is_tail_heading(line):
            return doc.with_text("\n".join(lines[:index]))
    return doc
