"""On a raw HTML page the article's element widens the body the layout model found
(sitegen/ingest/container.py): real pages of web-zh."""

from __future__ import annotations

from sitegen.errors import Diagnostics
from sitegen.ingest.pipeline import IngestReport, plan
from tests.conftest import CORPORA, need_shared


def _body(name: str) -> str:
    pages = plan([CORPORA / "web-zh" / "html" / name], Diagnostics(echo=False), IngestReport())
    assert len(pages) == 1
    return pages[0].body


def test_the_article_element_brings_the_rest_of_a_wechat_article():
    need_shared()
    body = _body("wechat_02.html")
    # text the line model alone left out (short code-comment lines between paragraphs)
    assert "它可以注册多个回调函数" in body and "被添加的回调函数进入了一个栈" in body
    assert "未闻Code 前天" not in body and "阅读原文" not in body


def test_a_related_box_above_the_article_is_not_taken_into_it():
    need_shared()
    body = _body("sina_04.html")
    assert "北京时间9月11日凌晨消息" in body and "A13仿生芯片" in body
    assert "相关新闻" not in body


def test_menus_around_the_article_stay_out():
    need_shared()
    body = _body("nmggov_01.html")
    assert "自治区财政厅传出最新消息" in body
    for chrome in ("网站地图", "联系我们", "主办单位"):
        assert chrome not in body


def test_a_site_name_in_an_h1_is_no_headline_and_a_site_suffix_goes():
    need_shared()
    [shanxi] = plan([CORPORA / "web-zh" / "html" / "shanxigov_01.html"], Diagnostics(echo=False), IngestReport())
    assert "山西省人民政府网站" not in shanxi.front.title and "巴西" in shanxi.front.title
    [xinhua] = plan([CORPORA / "web-zh" / "html" / "xinhuanet_01.html"], Diagnostics(echo=False), IngestReport())
    assert xinhua.front.title == "法国全国大罢工再次严重影响交通"
