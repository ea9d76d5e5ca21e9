"""The site's extractor: the CLUENER-trained tagger, the site's known names, roles, junk rules.

* The tagger (:mod:`sitegen.entities.model`) finds people, organisations, places and
  positions; the site's ``add`` names and aliases join its gazetteer and are also matched
  literally, so a name an editor added is always found.
* A position right before a person is that person's role, with the place or organisation
  written before it: ``河南省省长王凯`` → 王凯, role 河南省省长.
* A role word right before two or three characters that start with a surname names a
  person even where the tagger missed (部长李乐成, 省长毛伟明说), and a list joined by 、 whose
  members look like names and hold one name is a list of people (叶民、熊继军、单忠德).
* Rules that generalise drop what is not a name: generic words (the ignore list), bare
  organisation suffixes (委员会, 公司), organisations that do not end like one, spans with
  sentence punctuation or digits only, people whose "name" holds function words, collectives
  (部机关各司局); trailing ``等八部门`` and ``主管部门`` are cut off; a known name followed by a
  verb keeps the name (工信部组织开展 → 工信部); a place running into a word is cut (甘肃省区位).
* Names the tagger cut short are completed: before ``、，。`` or a verb (十仓雅和、, 进藤孝生出席,
  赵中新，; not through an adverb: 赵乐际还), or where the same text names the person in full;
  a name-like "organisation" in a 、-list of people is a person.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from sitegen.entities.catalog import EntityData
from sitegen.entities.model import TaggerModel, chunk_text, default_model

_PUNCT = re.compile(r"[，。、；：？！“”‘’《》（）()【】\[\]{}<>,.;:?!\"'|/\\\s]")
_EDGE_PUNCT = "《》“”‘’「」『』（）()【】[]<>\"' ·-—"
_FUNCTION_CHARS = set("的了是在和与及等为对将把被从向到也都就又而但或并其该此本各某每这那们")
ROLES = (
    "总书记|国家主席|副主席|主席|副总理|总理|委员长|副部长|部长|副司长|司长|副局长|局长|副省长|省长|副市长|市长|"
    "县长|区长|副书记|书记|副主任|主任|副秘书长|秘书长|副董事长|轮值董事长|董事长|副总裁|总裁|副总经理|总经理|"
    "副会长|会长|理事长|副院长|院长|校长|总工程师|总经济师|总编辑|巡视员|大使|发言人|教授|研究员|院士|常委|厅长|行长"
)
_HAN = "\u4e00-\u9fff"
_ROLE_THEN_NAME = re.compile(
    rf"(?:{ROLES})(?P<name>[{_HAN}]{{2,3}}?)(?=[，、。；：\s（(“”]|和|与|及|等|出席|主持|表示|指出|说|在|介绍|强调|会见|会谈|致辞|参加|一行|同志|$)"
)
_ROLE_AT_END = re.compile(f"(?:{ROLES})$")
_LIST_ITEM = re.compile(rf"[{_HAN}]{{2,3}}")
_ORG_TAIL = re.compile(r"等[一二三四五六七八九十两\d]*[个家]?(?:部门|单位|机构|企业)?$|(?:主管部门|有关部门|相关部门|方面|原)$")
_ORG_END = re.compile(
    "(?:委员会|办公室|管理局|总局|研究院|研究所|研究中心|中心|协会|学会|联合会|商会|基金会|公司|集团|大学|学院|学校|医院|银行|"
    "博物馆|部|局|厅|委|署|院|会|组织|联盟|政府|法院|检察院|报社|电视台|台|社|处|办|所|队|团|馆|行|室|站|厂|店|园|校|党|军|网|报)$"
)
_ORG_BAD_END = re.compile("(?:卫星|技术|建设|工程|产业|经济|发展|合作|网络|系统|国家|国际|地区|领域|项目|"
                          "行业|市场|平台|服务|管理|信息|数据|广播|布局|格局|部署|全局|大局|部门)$")
_ORG_BAD_START = re.compile(
    "^(?:加强|坚决|组建|贯彻|推进|推动|建设|深化|支持|围绕|落实|打造|实施|开展|构建|完善|提升|促进|加快|强化|"
    "各地|各级|各省|地方|基层|有关|相关|数字|智慧|全国各|我国|本市|该)"
)
_ORG_LEAD = re.compile("^(?:原|前|新|第[一二三四五六七八九十百\\d]+届)")
_MEASURE = set("名个位家项批次届种所座")
_VERB_TAILS = {"组织", "联合", "主办", "牵头"}  # after a known name these are verbs (工信部组织开展…)
_WORD_ACROSS_END = {"区位", "区域", "市场", "市民", "省份", "县域", "国际", "国内", "国家", "州际", "港口", "城市"}
_NAME_FINAL_FUNCTION_CHARS = set("和其")  # on the 24k corpus names ending so were real, those ending 等/在/及/将 junk
_NOT_NAME_TAIL = set("说等们的了在是于称讲答问道还再先曾已亦均则便才仍同")
_EACH = re.compile("各(?:司局|部门|单位|地区|地|级|省|市|县|区|国|方|界|类)")
_LOC_END = re.compile("(?:省|市|县|区|镇|乡|村|州|岛|湾|港|路|街|道|山|河|湖|江|海|洲|国|盟|旗|峡|关|城|原|岭|林|湾|坝|桥)$")
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)

EXTRACTOR_VERSION = "18"
# a dateline opening a story names the publisher, not the news: "**央视网消息**（新闻联播）：",
# "新华社北京3月5日电"
_DATELINE = re.compile(r"^\**[^\n：:*]{2,16}消息\**[（(][^）)\n]{1,16}[）)][：:]"
                       r"|^\**[^\n：:*]{2,16}消息\**[：:]|^新华社[^\n电]{2,16}电", re.M)
_NOT_NAMES = {
    "强调", "指出", "表示", "主持", "出席", "会见", "会谈", "介绍", "要求", "致辞", "参加", "讲话", "宣布", "发表",
    "说明", "认为", "希望", "同志", "一行", "先生", "女士", "同时", "提出", "主张", "回答", "通报", "视察", "考察",
    "调研", "看望", "慰问", "签署", "听取", "部署", "发布", "举行", "召开", "号召", "祝贺", "称赞", "感谢", "欢迎",
}
_NAME_BOUNDARY = set("与和及暨的在由同对向把被为从经据让使跟给将是有于以至到即并或、")
"""Bump when the rules change: it is part of the entity cache key."""

GENERIC_ORG = {
    "委员会", "办公室", "管理局", "总局", "研究院", "研究所", "中心", "协会", "学会", "联合会", "公司", "集团",
    "政府", "人民政府", "国务院各部门", "有关部门", "相关部门", "各部门", "部门", "单位", "企业", "机构", "组织",
    "部委", "部属单位", "党组", "党委", "省委", "市委", "县委", "区委", "司局", "两会", "国家队", "联盟",
}


@dataclass(frozen=True)
class Mention:
    """One entity occurrence: kind (PER/ORG/LOC), surface, and for people the role before it."""

    kind: str
    surface: str
    start: int
    role: str | None = None


CHUNK_MEMO_SIZE = 50_000
"""Tagged chunks an extractor remembers (a live preview re-tags edited texts)."""


def _clean_surface(surface: str) -> str:
    return surface.strip(_EDGE_PUNCT)


def is_plausible(kind: str, surface: str, data: EntityData) -> bool:
    """Rules that keep words that are not names off entity pages."""
    if len(surface) < 2 or surface in data.ignore or surface.isdigit():
        return False
    if _PUNCT.search(surface.replace("·", "")):
        return False
    if kind == "PER":
        if any(ch in _FUNCTION_CHARS for ch in surface) and "·" not in surface:
            return False
        if len(surface) > 12:
            return False
    if kind in {"ORG", "LOC"} and (surface in GENERIC_ORG or len(surface) > 30 or _EACH.search(surface)):
        return False
    if surface in data.aliases or data.kind_of_known(surface):
        return True
    if kind == "PER" and len(surface) == 2 and surface in common_words():
        return False  # 关于, 展望: a common word the tagger took for a two-character name
    if kind == "ORG" and not surface.isascii():
        if _ORG_BAD_END.search(surface) or _ORG_BAD_START.search(surface):
            return False
        if len(surface) > 4 and not _ORG_END.search(surface):
            return False
    if kind == "LOC" and not surface.isascii() and len(surface) > 4 and not _LOC_END.search(surface):
        return False
    return True


_COMMON_TAGS = frozenset({"p", "c", "u", "d", "v", "a", "ad", "vd", "f", "m", "q", "r", "t", "vn", "an"})


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Two-character words jieba's dictionary tags as verbs, adjectives, adverbs, prepositions,
    numerals, pronouns or time words and has seen at least 50 times (13,824 words; no person
    among the 100 most named people of the 24k CCTV corpus is one of them)."""
    import jieba

    words = set()
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as handle:
        for line in handle:
            word, frequency, tag = line.split(" ")
            if len(word) == 2 and tag.rstrip() in _COMMON_TAGS and int(frequency) >= 50:
                words.add(word)
    return frozenset(words)


def _looks_like_name(text: str) -> bool:
    return (2 <= len(text) <= 3 and text[0] in _SURNAMES and not any(ch in _FUNCTION_CHARS for ch in text)
            and text not in _NOT_NAMES and text[:2] not in _NOT_NAMES)


class _Found:
    """The mentions taken in one text so far, and which characters they cover (a character
    belongs to one mention at most)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.taken = [False] * len(text)
        self.mentions: list[Mention] = []

    def take(self, kind: str, surface: str, start: int, role: str | None = None) -> bool:
        """Take a mention unless it overlaps one taken before; whether it was taken."""
        end = start + len(surface)
        if start < 0 or any(self.taken[start:end]):
            return False
        self.mentions.append(Mention(kind, surface, start, role))
        self.taken[start:end] = [True] * len(surface)
        return True


def _organisation_start(text: str, surface: str, start: int,
                        known_matches: list[re.Match[str]]) -> tuple[str, int]:
    """An organisation name the tagger cut at its start (频谱管理中心 of 国家无线电频谱管理中心),
    or that starts inside a known name (工业和信息化部 | 信息通信科技委): all of it."""
    lead = start
    while lead > 0 and start - lead < 12 and "\u4e00" <= text[lead - 1] <= "\u9fff" \
            and text[lead - 1] not in _NAME_BOUNDARY \
            and not (text[lead - 1] in _MEASURE and lead >= 2
                     and (text[lead - 2].isdigit() or text[lead - 2] in "一二三四五六七八九十百千万两几多")):
        lead -= 1
    for match in known_matches:
        if match.start() < lead < match.end() or match.start() < start < match.end():
            lead = min(lead, match.start())
    if lead < start and (lead == 0 or not "\u4e00" <= text[lead - 1] <= "\u9fff" or text[lead - 1] in _NAME_BOUNDARY):
        return text[lead : start + len(surface)], lead
    return surface, start


def _name_end(text: str, surface: str, start: int, end: int, kind: str, known: dict[str, str]) -> tuple[str, str]:
    """Where a name ends: a place run into a word is cut (甘肃省区位优势 → 甘肃省); a person the
    tagger cut short before 、，。 or a verb goes on (十仓雅和、, 进藤孝生出席). Returns the
    surface and the part to check for plausibility (the tagger's own, when a character was
    added: it may be a function character such as 和)."""
    if kind in {"LOC", "ORG"} and surface not in known and text[end - 1 : end + 1] in _WORD_ACROSS_END \
            and _LOC_END.search(surface[:-1]) and len(surface) > 3:
        return surface[:-1], surface[:-1]
    if kind == "PER" and 2 <= len(surface) <= (4 if surface[0] not in _SURNAMES else 3) and end + 1 < len(text) \
            and "\u4e00" <= text[end] <= "\u9fff" and text[end] not in _NOT_NAME_TAIL \
            and (text[end + 1] in "、，。；" or len(surface) >= 3 and surface[0] not in _SURNAMES
                 and text[end + 1 : end + 3] in _NOT_NAMES) \
            and not (text[end] in _FUNCTION_CHARS and text[end + 1] not in "、，。；"):
        return text[start : end + 1], surface
    if kind == "PER" and len(surface) > 2 and surface[-1] in _NAME_FINAL_FUNCTION_CHARS:
        return surface, surface[:-1]  # 冉承其, 魏凤和: these end many given names
    return surface, surface


def _people_between_people(found: _Found, known: dict[str, str]) -> None:
    """A name-like "organisation" between people in a 、-list is a person (叶民、熊继军、单忠德)."""
    text, mentions = found.text, found.mentions
    mentions.sort(key=lambda m: m.start)
    for index, mention in enumerate(mentions):
        if mention.kind != "ORG" or mention.surface in known or not _looks_like_name(mention.surface):
            continue
        end = mention.start + len(mention.surface)
        before = mentions[index - 1] if index > 0 else None
        after = mentions[index + 1] if index + 1 < len(mentions) else None
        if (before is not None and before.kind == "PER" and before.start + len(before.surface) == mention.start - 1
                and text[mention.start - 1] == "、") or \
                (after is not None and after.kind == "PER" and after.start == end + 1 and text[end] == "、"):
            mentions[index] = Mention("PER", mention.surface, mention.start, mention.role)


def _full_names(found: _Found) -> None:
    """A person cut short where the same text names them in full (赵中 | 新 of 赵中新) is that person."""
    text, mentions, taken = found.text, found.mentions, found.taken
    people_names = {m.surface for m in mentions if m.kind == "PER"}
    for index, mention in enumerate(mentions):
        if mention.kind != "PER":
            continue
        longer = [n for n in people_names if len(n) > len(mention.surface) and n.startswith(mention.surface)
                  and text.startswith(n, mention.start)]
        if longer:
            name = max(longer, key=len)
            tail = range(mention.start + len(mention.surface), mention.start + len(name))
            if not any(taken[i] for i in tail):
                mentions[index] = Mention("PER", name, mention.start, mention.role)
                for i in tail:
                    taken[i] = True


def _repeats(found: _Found) -> None:
    """The same name written again where the tagger missed it still counts."""
    text = found.text
    for kind, surface in sorted({(m.kind, m.surface) for m in found.mentions if len(m.surface) >= 2}):
        position = text.find(surface)
        while position != -1:
            end = position + len(surface)
            if not any(found.taken[position:end]):
                found.mentions.append(Mention(kind, surface, position))
                for i in range(position, end):
                    found.taken[i] = True
            position = text.find(surface, end)


class Extractor:
    """Finds entity mentions in a site's texts (build one per site: it owns the gazetteer)."""

    def __init__(self, data: EntityData, model: TaggerModel | None = None) -> None:
        self.data = data
        known: list[tuple[str, str]] = [(kind, name) for kind, names in data.add.items() for name in names]
        for alias, target in data.aliases.items():
            kind = data.kind_of_known(target) or data.kind_of_known(alias) or "ORG"
            known += [(kind, alias), (kind, target)]
        self.known = {name: kind for kind, name in known if len(name) >= 2}
        self.model = (model or default_model()).with_names(known)
        self._chunk_memo: dict[str, list[tuple[int, int, str]]] = {}
        self._known_pattern = (
            re.compile("|".join(re.escape(n) for n in sorted(self.known, key=len, reverse=True)))
            if self.known else None
        )

    def mentions_many(self, texts: list[str]) -> list[list[Mention]]:
        """Mentions of each text, in order of appearance."""
        # blank out datelines (same length, so offsets hold): the publisher is not news
        texts = [_DATELINE.sub(lambda m: " " * len(m.group(0)), t) for t in texts]
        chunks: list[tuple[int, int, str]] = []
        for index, text in enumerate(texts):
            chunks.extend((index, offset, chunk) for offset, chunk in chunk_text(text))
        tagged = self._tag_chunks([c for _, _, c in chunks])
        spans: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        for (index, offset, _), found in zip(chunks, tagged):
            spans[index].extend((offset + s, offset + e, k) for s, e, k in found)
        return [self._mentions(text, found) for text, found in zip(texts, spans)]

    def _tag_chunks(self, chunks: list[str]) -> list[list[tuple[int, int, str]]]:
        """The tagger's spans per chunk; chunks tagged recently are remembered, so re-tagging
        an edited long text only tags its new sentences (the tagger sees one chunk at a time,
        so a remembered result is the result)."""
        memo = self._chunk_memo
        known = {c: memo[c] for c in chunks if c in memo}
        missing = list(dict.fromkeys(c for c in chunks if c not in known))
        if missing:
            known.update(zip(missing, self.model.tag(missing)))
            if len(memo) + len(missing) > CHUNK_MEMO_SIZE:
                memo.clear()  # bounded: a big build keeps only its latest batch
            memo.update((c, known[c]) for c in missing[:CHUNK_MEMO_SIZE])
        return [known[c] for c in chunks]

    def extract(self, text: str) -> list[tuple[str, str]]:
        """``(kind, surface)`` pairs of one text."""
        return [(m.kind, m.surface) for m in self.mentions_many([text])[0]]

    def _mentions(self, text: str, spans: list[tuple[int, int, str]]) -> list[Mention]:
        """The mentions of one text, from the tagger's ``spans``, in steps: candidates from
        three sources (a role word before a name, the site's known names, the tagger), settled
        longest first (so 兰州市人民政府 beats 兰州市, 毛伟明 beats 毛伟), then completed:
        people listed with a person, name-like organisations between people, names cut short
        where the text names them in full, and names written again where the tagger missed."""
        spans = sorted(spans)
        known_matches = list(self._known_pattern.finditer(text)) if self._known_pattern is not None else []
        roles: dict[int, str] = {}
        candidates = self._role_candidates(text) + [(m.start(), m.group(0), self.known[m.group(0)], None)
                                                    for m in known_matches]
        for index in range(len(spans)):
            candidate = self._tagger_candidate(text, spans, index, known_matches)
            if candidate is not None:
                if candidate[3]:
                    roles[candidate[0]] = candidate[3]
                candidates.append(candidate)
        found = _Found(text)
        for start, surface, kind, role in sorted(candidates, key=lambda c: (-len(c[1]), c[0])):
            found.take(kind, surface, start, role or (roles.get(start) if kind == "PER" else None))
        self._listed_people(found)
        _people_between_people(found, self.known)
        _full_names(found)
        _repeats(found)
        return sorted(found.mentions, key=lambda m: m.start)

    def _role_candidates(self, text: str) -> list[tuple[int, str, str, str | None]]:
        """People named right after a role word (部长李乐成, 省长毛伟明说)."""
        return [(match.start("name"), match["name"], "PER", None) for match in _ROLE_THEN_NAME.finditer(text)
                if _looks_like_name(match["name"]) and match["name"] not in self.data.ignore]

    def _tagger_candidate(self, text: str, spans: list[tuple[int, int, str]], index: int,
                          known_matches: list[re.Match[str]]) -> tuple[int, str, str, str | None] | None:
        """The candidate of the tagger's span ``index``, its surface corrected (cut of what is
        not the name, completed where the tagger cut it short, a known name kept), with the
        role written before a person; None for a span that is not a plausible name."""
        start, end, kind = spans[index]
        if kind == "POS":
            return None
        surface = _clean_surface(text[start:end])
        if kind == "ORG":
            surface = _ORG_TAIL.sub("", surface)
            lead = _ORG_LEAD.match(surface)  # 原邮电部 → 邮电部, 第十三届全国政协… → 全国政协…
            if lead and len(surface) - lead.end() >= 2:
                surface = surface[lead.end() :]
        if kind in {"ORG", "LOC"} and (role_word := _ROLE_AT_END.search(surface)) and role_word.start() >= 2:
            # 河南省省长 tagged as one organisation: the place is the entity, 省长 the role
            surface = surface[: role_word.start()]
            kind = self.known.get(surface) or ("LOC" if _LOC_END.search(surface) else "ORG")
        if not surface:
            return None
        start = text.find(surface, start, end)
        if kind in {"ORG", "LOC"} and surface not in self.known:
            surface, kind = self._known_head(surface, kind)
        if kind == "ORG" and surface not in self.known:
            surface, start = _organisation_start(text, surface, start, known_matches)
        end = start + len(surface)
        surface, checked = _name_end(text, surface, start, end, kind, self.known)
        kind = self.known.get(surface) or kind
        if not is_plausible(kind, checked, self.data):
            return None
        role = self._role_before(text, spans, index) if kind == "PER" and index > 0 else None
        return start, surface, kind, role

    def _known_head(self, surface: str, kind: str) -> tuple[str, str]:
        """A known name run into the next word (比亚迪深 of 比亚迪深化合作): the name."""
        for cut in range(len(surface) - 1, 1, -1):
            head, rest = surface[:cut], surface[cut:]
            if head in self.known and (rest in _VERB_TAILS or not (_ORG_END.search(rest) or _LOC_END.search(rest))):
                return head, self.known[head]
        return surface, kind

    def _listed_people(self, found: _Found) -> None:
        """A list of names joined by 、 that holds a person: its name-like members are people too."""
        text = found.text
        people = [m for m in found.mentions if m.kind == "PER"]
        for person in people:
            for direction in (-1, 1):
                position = person.start if direction < 0 else person.start + len(person.surface)
                while True:
                    if direction < 0:
                        if position < 1 or text[position - 1] != "、":
                            break
                        item = _LIST_ITEM.search(text, max(0, position - 4), position - 1)
                        names = [text[i : position - 1] for i in (position - 4, position - 3)
                                 if i >= 0 and _looks_like_name(text[i : position - 1])
                                 and (i == 0 or not "\u4e00" <= text[i - 1] <= "\u9fff" or text[i - 1] in "、，")]
                        if not item or not names:
                            break
                        name = names[0]
                        start = position - 1 - len(name)
                    else:
                        if position >= len(text) or text[position] != "、":
                            break
                        rest = text[position + 1 : position + 5]
                        next_name = next((rest[:n] for n in (3, 2) if _looks_like_name(rest[:n]) and
                                          (len(rest) <= n or rest[n] in "、，。等出和与")), None)
                        if next_name is None:
                            break
                        name, start = next_name, position + 1
                    if name in self.data.ignore or not found.take("PER", name, start):
                        break
                    position = start if direction < 0 else start + len(name)

    @staticmethod
    def _role_before(text: str, spans: list[tuple[int, int, str]], index: int) -> str | None:
        """The role written right before a person: positions and the organisation or place
        they belong to (比亚迪股份有限公司董事长兼总裁王传福, 河南省省长王凯)."""
        start = spans[index][0]
        role_start = start
        has_position = False
        j = index - 1
        while j >= 0:
            s, e, kind = spans[j]
            gap = text[e:role_start]
            if kind not in {"POS", "ORG", "LOC"} or gap not in {"", "兼"}:
                break
            if kind == "POS" or _ROLE_AT_END.search(text[s:e]):
                has_position = True
            role_start = s
            j -= 1
        role = text[role_start:start]
        if not has_position or not 2 <= len(role) <= 30 or _PUNCT.search(role):
            return None
        if role[-2:] in _NOT_NAMES:  # a verb tagged as a position (主持 of 丁薛祥主持), not a role
            return None
        return role
