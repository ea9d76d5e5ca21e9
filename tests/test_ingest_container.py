"""On a raw HTML page the article's element widens the body the layout model found
(sitegen/ingest/container.py): real pages of web-zh."""

from __future__ import annotations

import pytest

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




@pytest.fixture(scope="module")
def unseen_body():
    """The body of a page of web-zh/html ingested with a layout model trained without its
    site: how a user's own site fares."""
    from sitegen.ingest.train import load_corpus, site_of, train, without_sites

    need_shared()
    corpus = load_corpus()

    def body(name: str) -> str:
        model = train(without_sites(corpus, {site_of(name)}))
        pages = plan([CORPORA / "web-zh" / "html" / name], Diagnostics(echo=False), IngestReport(), model=model)
        assert len(pages) == 1
        return "".join(pages[0].body.split())

    return body


def _has(body: str, *lines: str) -> bool:
    return all("".join(line.split()) in body for line in lines)


def test_an_agenda_broken_by_br_joins_the_body_whole(unseen_body):
    body = unseen_body("ccerpku_01.html")
    # lines of paragraphs of times and speakers, each given a chance below FURNITURE
    assert _has(body, "12月10日 代表注册", "时  间：7:00－9:30", "8:30－8:50 开幕式", "第一场1:30－3:30")
    assert not any(_has(body, chrome) for chrome in ("Copyright", "京ICP备", "相关评论", "双击自动滚屏"))


def test_a_table_cell_of_a_programme_joins_the_body(unseen_body):
    body = unseen_body("cl2000_01.html")
    assert _has(body, "4、艺术美学与哲学经典阅读", "4、戏曲创作论", "4、电影社会学", "2、中国舞蹈史")
    assert not _has(body, "发表评论") and not _has(body, "All rights reserved")


def test_short_lines_of_dialogue_between_paragraphs_join_the_body(unseen_body):
    body = unseen_body("bilibili_01.html")
    assert _has(body, "“嗯……暂时还没有吧……”", "“……”茶座没有回应。", "“不不不我吃不了。”速子连忙摆摆手。")
    assert not any(_has(body, chrome) for chrome in ("分享到", "推荐文章", "投诉或建议"))
