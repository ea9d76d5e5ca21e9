"""Cut a 相关阅读 / 延伸阅读 / 相关新闻 / 热点新闻 / 推荐阅读 link list and everything after it:
what follows such a heading on scraped pages is the host site's unrelated link spam."""

import re

from sitegen.ingest.clean import Cleaned

_TAIL_HEADING = re.compile(
    r"^[【\[〔「<《]?\s*(相关阅读|延伸阅读|相关新闻|热点新闻|推荐阅读|相关文章|更多阅读|相关推荐|热门推荐|猜你喜欢|更多新闻|热门文章|相关链接)\s*[】\]〕」>》]?\s*[:：>»]*\s*$"
)


def apply(doc: Cleaned) -> Cleaned:
    lines = doc.lines()
    for index, line in enumerate(lines):
        if _TAIL_HEADING.match(line):
            return doc.with_text("\n".join(lines[:index]))
    return doc
