"""Item titles: the stated title with site decoration removed, or a short generated headline
(at most 30 characters) built from the lead sentence: who + what, e.g.
``河南省省长王凯与比亚迪董事长王传福举行会谈``."""

from __future__ import annotations

import re

from sitegen.text import HAN, lead_sentence

HEADLINE_MAX = 30

_MEDIA_PREFIX = re.compile(r"^\s*[\[【〔(（](视频|图文|组图|图片|音频|直播|快讯|独家|原创|专题|热点|推荐|最新)[\]】〕)）]\s*")
_SITE_PREFIX = re.compile(r"^[^\s\-–—|_]{1,8}\s+[-–—|_]\s+(?=\S)")
_SITE_SUFFIX = re.compile(r"\s+[-–—|_]\s+[^\s\-–—|_]{1,12}$|_[^_\s]{1,12}(?:_[^_\s]{1,12})*$")
_DATE_CLAUSE = re.compile(
    r"^(?:(?:19|20)\d{2}年)?\d{1,2}月\d{1,2}(?:日|号)?(?:至\d{1,2}(?:月\d{1,2})?日)?(?:[上下中]午|晚间?|早间?|凌晨)?[，,]?"
    r"|^\d{1,2}(?:日|号)(?:[上下中]午|晚间?)?[，,]?|^(?:日前|近日|近期|本周|今天|昨天|今日)[，,]?"
)
_INLINE_DATE = re.compile(
    r"(?:(?:19|20)\d{2}年)?\d{1,2}月\d{1,2}(?:日|号)(?:至\d{1,2}(?:月\d{1,2})?日)?(?:[上下中]午)?|(?<![\d月])\d{1,2}日(?:[上下中]午)?|日前|近日"
)
_ATTRIBUTION = re.compile(r"^[“\"]?[^，,。“”\"]{1,16}[”\"]?(?:微信公众号|公众号|网站|客户端|微博)?消息[，,]"
                          r"|^据[^，,。]{1,20}(?:报道|消息)[，,]")
_SOURCE_PREFIX = re.compile(rf"^[{HAN}A-Za-z0-9（）()]{{2,20}}[：:](?=\S)")
_PURPOSE = re.compile(r"^(?:为了?|为进一步|围绕|按照|根据)[^，,。]{2,40}[，,]")
_COMPANY_SUFFIX = re.compile(r"(?:信息技术|科技)?(?:股份)?有限(?:责任)?公司|公司(?=[副总董执首])|集团(?=[副总董])")
_CONCURRENT_ROLE = re.compile(r"兼(?:总裁|总经理|首席执行官|CEO|秘书长)")
_RELATIVE_CLAUSE = re.compile(r"与[^与，,。]{2,14}的(?=[^的，,。]{4,})")
_PLACE_BEFORE_WITH = re.compile(r"在[^在与，,。]{1,6}(与|同|和)")
_FILLER = re.compile(r"(?<=举行|召开|举办|开展|签署|达成)了|成功(?=举办|召开|举行)|隆重(?=举办|召开|举行)|顺利(?=举办|召开|举行)")
_ROLE_LIST = re.compile(r"(?:^|(?<=[与和同]))[^、，,与和同]{2,16}、(?=[^、，,]{2,16}[长任记理裁席])")
_COUNTRY = {
    "俄罗斯": "俄", "英国": "英", "美国": "美", "日本": "日", "法国": "法", "德国": "德", "韩国": "韩",
    "意大利": "意", "西班牙": "西", "澳大利亚": "澳", "新加坡": "新", "马来西亚": "马", "印度尼西亚": "印尼",
    "越南": "越", "泰国": "泰", "巴西": "巴", "印度": "印", "巴基斯坦": "巴", "埃及": "埃", "南非": "南非",
    "加拿大": "加", "新西兰": "新", "荷兰": "荷", "瑞士": "瑞", "瑞典": "瑞", "沙特": "沙", "伊朗": "伊",
    "欧盟": "欧", "哈萨克斯坦": "哈", "乌兹别克斯坦": "乌", "蒙古": "蒙", "老挝": "老", "柬埔寨": "柬",
}
_BILATERAL = re.compile(
    r"^(?P<cn>[^与，,。]*?(?:部|局|委|办|院|中国|我国|国家)[^与，,。]*?)与(?P<country>" + "|".join(_COUNTRY)
    + r")[^在，,。]*?在(?P<place>[^，,。]{1,6}?)(?P<verb>举行|召开)(?P<event>[^，,。]+)$"
)


def clean_stated_title(title: str) -> str:
    """The title as stated, without site prefixes/suffixes (``官方 - …``, ``…_新闻_某网``)."""
    cleaned = _SITE_PREFIX.sub("", _MEDIA_PREFIX.sub("", title.strip()))
    if len(cleaned) > 12:
        cleaned = _SITE_SUFFIX.sub("", cleaned)
    return cleaned.strip()


def _main_clause(sentence: str) -> str:
    text = sentence.rstrip("。！？!?")
    for _ in range(3):
        before = text
        text = _ATTRIBUTION.sub("", text)
        text = _SOURCE_PREFIX.sub("", text) if not _DATE_CLAUSE.match(text) else text
        text = _DATE_CLAUSE.sub("", text)
        if text == before:
            break
    # purpose clauses ("为…，推动…，") before a date clause: start after the date clause
    date_inside = re.search(r"[，,]((?:19|20)\d{2}年)?\d{1,2}月\d{1,2}日(?:至\d{1,2}日)?(?:[上下]午)?[，,]", text)
    if date_inside and _PURPOSE.match(text):
        text = text[date_inside.end():]
    else:
        while _PURPOSE.match(text):
            text = _PURPOSE.sub("", text, count=1)
    text = _INLINE_DATE.sub("", text)
    return re.split(r"[，,；;。]", text, maxsplit=1)[0].strip()


def _compress(clause: str) -> str:
    text = _FILLER.sub("", clause)
    bilateral = _BILATERAL.match(text)
    if bilateral:
        event = re.sub(r"^(?:双方|两国)", "", bilateral["event"])
        return f"中{_COUNTRY[bilateral['country']]}{event}在{bilateral['place']}{bilateral['verb']}"
    text = _PLACE_BEFORE_WITH.sub(r"\1", text)
    text = _COMPANY_SUFFIX.sub("", text)
    text = _CONCURRENT_ROLE.sub("", text)
    text = _RELATIVE_CLAUSE.sub("与", text)
    return text


def _shorten(text: str) -> str:
    if len(text) <= HEADLINE_MAX:
        return text
    text = _ROLE_LIST.sub("", text)
    if len(text) <= HEADLINE_MAX:
        return text
    text = re.sub(r"举行(?=[^举]*会谈$)", "", text)
    if len(text) <= HEADLINE_MAX:
        return text
    text = re.sub(r"[^与和]*?(?=会谈$|座谈$)", "", text) if re.search(r"与.+会谈$", text) else text
    if len(text) <= HEADLINE_MAX:
        return text
    cut = text[:HEADLINE_MAX]
    for sep in ("、", "与", "和", "的"):
        pos = cut.rfind(sep)
        if pos >= HEADLINE_MAX // 2:
            return cut[:pos]
    return cut


def generate_headline(body: str) -> str:
    """A headline of at most 30 characters from the lead sentence of ``body``."""
    sentence = lead_sentence(body)
    clause = _main_clause(sentence) or sentence
    return _shorten(_compress(clause)).strip("，,、 ")
