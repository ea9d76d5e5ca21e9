"""The built sample site in a real headless Chromium: navigation and Chinese search."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def test_home_to_digest_to_article(page, site_server):
    page.goto(site_server.base + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="阅读本期要闻回顾").click()
    page.wait_for_url("**/weeks/2025-W27/")  # the newest week with known dates (the 003 newsletter)
    assert page.locator(".headline-list li").count() == page.locator(".digest-item").count() == 10
    assert page.locator(".digest-others li").count() == 2  # 12 items that week: the rest listed briefly
    page.get_by_role("link", name="要闻回顾", exact=True).first.click()
    page.wait_for_url("**/weeks/")
    page.get_by_role("link", name="2025年第8周").click()
    page.wait_for_url("**/weeks/2025-W08/")
    assert page.locator(".headline-list li").count() == 10
    first_item = page.locator(".digest-item").first
    title = first_item.locator("h3").inner_text()
    first_item.get_by_role("link", name="链接").click()
    page.wait_for_url("**/articles/**")
    assert page.locator("h1").inner_text() in title
    assert page.locator(".chip").count() > 0
    page.get_by_role("link", name="要闻回顾 · 2025年第8周（2025年2月17日—2月23日）").click()
    page.wait_for_url("**/weeks/2025-W08/")
    assert page.errors == []


@pytest.mark.parametrize("query,expected_title", [
    ("北斗", "中国—中亚北斗合作论坛在甘肃兰州举行"),
    ("工信部", "工信部召开第十三次制造业企业座谈会"),
    ("比亚迪", "河南省省长王凯与比亚迪董事长王传福举行会谈"),
    ("王传福", "合肥市委书记虞爱华与比亚迪董事长王传福继续深化合作工作会谈"),
    ("新能源汽车", "国务院常务会议审议通过《健全新能源汽车动力电池回收利用体系行动方案》"),
    # ICU splits these alone differently from in their sentence (李 正 茂:作, 会 长:进 藤孝 生):
    # found through the parts of the index; the excerpt shows no ":" between the parts
    ("李正茂", "2025中国信息通信业发展高层论坛在京举办"),
    ("进藤孝生", "工信部与日本经济界访华代表团交流会在京举行"),
])
def test_chinese_search_finds_articles(page, site_server, query, expected_title):
    page.goto(site_server.base + "/")
    page.get_by_label("搜索全站").fill(query)
    page.get_by_label("搜索全站").press("Enter")
    page.wait_for_url("**/search/**")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=15000)
    titles = results.locator(".result-title").all_inner_texts()
    assert expected_title in titles, titles
    excerpts = " ".join(results.locator(".result-excerpt").all_inner_texts())
    assert query in excerpts.replace(" ", "")
    assert not re.search("[\u4e00-\u9fff]:[\u4e00-\u9fff]", excerpts), excerpts  # no parts' ":" left
    assert page.errors == []


def test_search_for_absent_word_finds_nothing(page, site_server):
    page.goto(site_server.base + "/search/?q=特斯拉")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('没有找到')", timeout=15000)
    assert page.locator("#search-results li").count() == 0


def _result_dates(page) -> list[tuple[int, int, int]]:
    metas = page.locator("#search-results .list-meta").all_inner_texts()
    return [tuple(int(n) for n in re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", meta).groups()) for meta in metas]


def test_search_sorted_by_date_lists_newest_first(page, site_server):
    # 产业 finds 18 articles: all on the first page of 20, so both orders list the same results
    page.goto(site_server.base + "/search/?q=产业&type=文章")
    page.locator("#search-results li").first.wait_for(timeout=15000)
    by_relevance = _result_dates(page)
    page.goto(site_server.base + "/search/?q=产业&type=文章&sort=date")
    page.locator("#search-results li").first.wait_for(timeout=15000)
    assert page.locator("#search-sort").input_value() == "date"
    newest_first = _result_dates(page)
    assert len(newest_first) == len(by_relevance) >= 5
    assert newest_first == sorted(by_relevance, reverse=True)
    assert by_relevance != newest_first  # the sort did something on this query
    assert page.errors == []


def test_filter_values_load_only_when_the_filters_are_opened(page, site_server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site_server.base + "/search/?q=工信部")
    page.locator("#search-results li").first.wait_for(timeout=15000)
    assert any("/pagefind/index/" in url for url in requested)
    assert not [url for url in requested if "/pagefind/filter/" in url]  # a search needs no filter values
    assert page.locator("#search-more").evaluate("e => e.open") is False
    page.locator("#search-more summary").click()
    page.wait_for_function("document.querySelectorAll('select[data-filter=\"周\"] option').length > 5", timeout=15000)
    assert [url for url in requested if "/pagefind/filter/" in url]
    weeks = page.locator("select[data-filter='周'] option").all_inner_texts()
    assert weeks[0] == "全部" and all(re.fullmatch(r"\d{4}-W\d{2}（\d+）", w) for w in weeks[1:]), weeks
    assert weeks[1:] == sorted(weeks[1:], reverse=True)  # newest week first
    people = page.locator("select[data-filter='人物'] option").all_inner_texts()
    assert len(people) > 10
    page.locator("select[data-filter='周']").select_option(weeks[-1].split("（")[0])
    page.wait_for_function("document.getElementById('search-status').textContent.includes('条结果')"
                           " || document.getElementById('search-status').textContent.includes('没有找到')", timeout=15000)
    assert page.errors == []


def test_search_filters_by_week_and_kind(page, site_server):
    page.goto(site_server.base + "/search/?q=工信部&type=文章&周=2025-W08")
    page.locator("#search-results li").first.wait_for(timeout=15000)
    assert page.locator("select[data-filter='周']").input_value() == "2025-W08"
    hrefs = page.locator("#search-results .result-title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith("/articles/2025022") or h.startswith("/articles/2025021") for h in hrefs), hrefs
    meta = page.locator("#search-results .list-meta").first.inner_text()
    assert "2025年2月" in meta
    # the label of every control is real (axe: label-title-only)
    for control in page.locator("#search-form select, #search-form input").all():
        assert control.evaluate("e => e.labels && e.labels.length > 0"), control.evaluate("e => e.outerHTML")
