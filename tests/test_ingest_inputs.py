"""Ingest of every input kind on real data: CCTV raw pages (.html), the jsonl corpus
(roundups, duplicates), Markdown pass-through, encodings, dates, dry runs and reports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.errors import Diagnostics
from sitegen.frontmatter import parse_page
from sitegen.ingest.clean import clean_text
from sitegen.ingest.pipeline import IngestReport, plan, plan_document
from sitegen.ingest.readers import RawDocument
from tests.conftest import CORPORA, need_shared

CCTV = CORPORA / "cctv_xwlb"


def records(month: str) -> list[dict]:
    need_shared()
    return [json.loads(line) for line in (CCTV / "items_by_month" / f"{month}.jsonl").open(encoding="utf-8")]


def pages_in(content: Path) -> list[dict]:
    return [parse_page(p.read_text("utf-8"), p).front | {"_body": parse_page(p.read_text("utf-8"), p).body}
            for p in sorted(content.rglob("*.md"))]


def test_all_raw_html_pages_ingest_with_their_titles():
    need_shared()
    pages = sorted((CCTV / "html_sample").glob("*.shtml"))
    assert len(pages) == 286
    months = sorted(p.stem for p in (CCTV / "items_by_month").glob("*.jsonl"))
    expected = {r["url"].rsplit("/", 1)[-1]: r for m in months for r in records(m)}
    report = IngestReport()
    planned = plan(pages, Diagnostics(echo=False), report)
    assert report.failed_files == [] and report.documents == 286
    by_page: dict[str, list] = {}
    for page in planned:
        by_page.setdefault(page.origin.split("#")[0].rsplit("/", 1)[-1], []).append(page)
    checked = 0
    for name, record in expected.items():
        if name in by_page:
            found = by_page[name]
            # a roundup page (国际联播快讯) becomes a page per story, its title their column (as .jsonl does)
            title = found[0].front.title if len(found) == 1 else found[0].front.category
            assert title == record["title"], name
            checked += 1
    assert checked >= 250
    for page in planned:
        assert "视频简介" not in page.body and "<!--" not in page.body and "[视频]" not in page.front.title


def test_roundup_is_split_on_bold_subheadlines(tmp_path):
    roundup = next(r for r in records("2024-01") if r["title"] == "国内联播快讯")
    source = tmp_path / "roundup.jsonl"
    source.write_text(json.dumps(roundup, ensure_ascii=False) + "\n", "utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(source), "--content", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    heads = [line[2:-2] for line in roundup["text"].split("\n") if line.startswith("**") and line.endswith("**")]
    pages = pages_in(tmp_path / "c")
    assert sorted(p["title"] for p in pages) == sorted(heads)
    for page in pages:
        assert page["category"] == "国内联播快讯"
        assert page["date"] == date.fromisoformat(roundup["date"]) and page["date_uncertain"] is False
        assert page["source"] == "央视网《新闻联播》" and page["source_url"] == roundup["url"]
        assert "**" not in page["_body"]


def test_same_story_twice_is_written_once_with_the_other_origin(tmp_path):
    month = records("2024-10")
    twice = [r for r in month if r["title"] == "习近平抵达喀山出席金砖国家领导人第十六次会晤"]
    editions = [r for r in records("2024-05") if "论述摘编》" in r["title"] and "版出版发行" in r["title"]]
    assert len(twice) == 2 and len(editions) == 2
    source = tmp_path / "items.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in twice + editions), "utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(source), "--content", str(tmp_path / "c")])
    assert result.exit_code == 0 and "duplicates skipped: 1" in result.output
    pages = pages_in(tmp_path / "c")
    assert len(pages) == 3  # the French and Russian editions are different news
    merged = next(p for p in pages if p["title"] == twice[0]["title"])
    origin = f"{tmp_path.name}/items.jsonl"
    assert merged["origin"] == f"{origin}#1" and merged["also"] == [f"{origin}#2"]


def test_markdown_pages_pass_through(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "note.md").write_text("---\ntitle: 编辑手写的一页\ndate: 2025-03-01\n---\n正文**加粗**。\n", "utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(raw), "--content", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    [page] = pages_in(tmp_path / "c")
    assert page["title"] == "编辑手写的一页" and page["_body"].strip() == "正文**加粗**。"
    assert page["origin"] == "raw/note.md#1"


@pytest.mark.parametrize("encoding,bom", [("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("gb18030", b"")])
def test_encodings(tmp_path, encoding, bom):
    text = "工信部召开座谈会\n2025年2月21日，工业和信息化部召开第十三次制造业企业座谈会，听取企业意见建议。"
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "doc.txt").write_bytes(bom + text.encode(encoding))
    result = CliRunner().invoke(cli, ["ingest", str(raw), "--content", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    [page] = pages_in(tmp_path / "c")
    assert page["title"] == "工信部召开座谈会" and page["date"] == date(2025, 2, 21)


def _dated(text: str, **meta) -> dict:
    doc = RawDocument(Path("x.txt"), "x.txt", text, "txt", meta)
    [page] = plan_document(doc, clean_text(text), Diagnostics(echo=False))
    return page.front.to_mapping()


def test_dates_resolve_against_the_document():
    # a month-day after the publication date belongs to the year before
    front = _dated("标题在这里\n10月15日，论坛在兰州举行，来自多国的代表参加了会议并发言。", published=date(2022, 1, 30))
    assert front["date"] == date(2022, 1, 30) and front["event_date"] == date(2021, 10, 15)
    # Taiwan ROC year
    front = _dated("台湾地区消息\n民国109年3月5日，当地举行了一场活动，吸引了众多民众前往参加。")
    assert front["date"] == date(2020, 3, 5) and front["date_uncertain"] is False
    # 近日 takes the document's own date
    front = _dated("工信部印发通知\n工业和信息化部近日印发通知，组织开展算力强基揭榜行动。", published=date(2025, 2, 21))
    assert front["date"] == date(2025, 2, 21) and "event_date" not in front
    # no year anywhere: flagged, never certain
    front = _dated("会议召开\n2月22日，工业和信息化部召开电视电话会议，部署相关工作任务。")
    assert front["date_uncertain"] is True and (front["date"].month, front["date"].day) == (2, 22)


def test_a_time_zone_is_no_date_label():
    """北京时间 in a dateline is the time zone of an event, not a 时间： label: the page's own
    stamp by the headline stays its date (sina_04 of web-zh was dated by the dateline)."""
    from sitegen.ingest.dates import find_stamps

    [dateline] = find_stamps("新浪科技讯 北京时间9月11日凌晨消息，苹果2019秋季发布会开幕")
    assert dateline.precision == "month_day" and not dateline.labelled
    [labelled] = find_stamps("发布时间：2019-09-11")
    assert labelled.labelled and labelled.date == date(2019, 9, 11)


def test_a_headline_and_its_subtitle_make_one_title():
    """A title printed over two lines above a date line (web-zh nmggov_01) is one headline."""
    need_shared()
    [page] = plan([CORPORA / "web-zh" / "txt" / "nmggov_01.txt"], Diagnostics(echo=False), IngestReport())
    assert page.front.title == "内蒙古延续部分到期税收优惠政策助企纾困 预计4年为纳税人减负180亿元"
    assert page.front.date == date(2022, 2, 11) and "预计4年为纳税人减负" not in page.body


def test_dry_run_writes_nothing_and_json_report(tmp_path, seeds_dir):
    content = tmp_path / "c"
    dry = CliRunner().invoke(cli, ["ingest", str(seeds_dir), "--content", str(content), "--dry-run"])
    assert dry.exit_code == 0 and "would write: 31" in dry.output
    assert not content.exists()
    result = CliRunner().invoke(cli, ["ingest", str(seeds_dir), "--content", str(content), "--report", "json"])
    report = json.loads(result.output)
    assert report["documents"] == 5 and report["items"] == 31 and len(report["written"]) == 31
    assert len(report["uncertain_dates"]) == 6 and report["failed_files"] == []



def test_a_paragraph_cut_off_from_the_body_by_a_box_of_links_is_kept():
    """Lines of web-zh yahoocn_03 with the chances of being body text that a model trained
    without that site gave them: between the headline and the body stretch stand a box of
    recommended links, the article's first paragraph and a box of ads. The paragraph is the
    article's (running text the model finds likely body); the boxes are not."""
    from sitegen.ingest.layout import default_model, find_layout
    from sitegen.ingest.lines import Line

    page = [
        ("全球股市行情： 代码查询 使用说明", 0.4), ("孩子：我的奶酪，谁做主", 0.68),
        ("2005-02-06 13:26更新 来源：转载文章 发表评论", 0.01),
        ("今 79年每月挣六千 大款收藏86部老车 农民工和他的日记", 0.21),
        ("日 全国武术冠军改行学擦皮鞋(图) 顶尖高手修行秘笈", 0.73),
        ("推 空姐隆胸失败成伤残 月薪少5000 穷男人还买得起爱情吗？", 0.82),
        ("荐 南航飞机自杀男子是百万富翁(图) 外国人心目中的十大中国名牌", 0.85),
        ("马金鹏（１４岁）：压岁钱是爷爷奶奶以及叔叔、姨姨给我们庆祝春节的，就是属于我们的，爸爸妈妈没有权利"
         "替我们做主。我对家长将“压岁钱”拿走的做法最反感。", 0.93),
        ("今日焦点：", 0.96), ("中国股市遭遇历史性机会：股改行情大揭密 ...(图文)", 0.06),
        ("中金“内部观点”曝光：表面唱多 暗里看空...", 0.11), ("医疗关注--前列腺新发现 · 皮肤顽疾----康复圣地", 0.0),
        ("李婷艳（１９岁）：我一直认为压岁钱不属于自己，应该属于父母，因为在我得到压岁钱的同时，我父母也将压岁钱"
         "给了别人，还了人情。", 0.96),
        ("陈晓明（１２岁）：小时候，每年收到的“压岁钱”都会交给妈妈处理，主要购买了学习用品以及各种玩具。", 0.97),
        ("孟莹（１７岁）：“压岁钱”应该是共有的，既不能全算我的，也不能全算父母的，因为“压岁钱”大多是长辈给的。", 0.94),
        ("来源：新华网", 0.77), ("发送给朋友 打印本文", 0.03), ("返回页首 | 关闭窗口", 0.0),
    ]
    lines = [Line(number, text, False, True) for number, (text, _) in enumerate(page)]
    layout = find_layout(lines, default_model(), probabilities=[p for _, p in page])
    assert layout.title is not None and layout.title.text == "孩子：我的奶酪，谁做主"
    body = [line.text[:3] for line in layout.body]
    assert body[:4] == ["马金鹏", "李婷艳", "陈晓明", "孟莹（"], body
