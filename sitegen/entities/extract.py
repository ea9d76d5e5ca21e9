"""The extractor: jieba POS tags + user dictionary + rules (see the package docstring)."""

from __future__ import annotations

import logging
import re

from sitegen.entities.catalog import EntityData
from sitegen.text import HAN

SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
COMPOUND_SURNAMES = {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "公孙", "慕容", "尉迟", "长孙", "宇文", "司徒", "夏侯"}
ROLES = (
    "总书记|国家主席|主席|副主席|总理|副总理|委员长|部长|副部长|司长|副司长|局长|副局长|省长|副省长|市长|副市长|"
    "县长|区长|书记|副书记|主任|副主任|秘书长|副秘书长|董事长|副董事长|轮值董事长|总裁|副总裁|总经理|副总经理|"
    "会长|副会长|理事长|院长|副院长|校长|总工程师|总经济师|总编辑|巡视员|大使|发言人|教授|研究员|院士|常委|"
    "首席执行官|创始人|负责人|代表|委员|厅长|处长|行长|主持人|记者|经理|专家"
)
_ROLE_THEN_NAME = re.compile(
    rf"(?:{ROLES})(?P<name>[{HAN}]{{2,3}}?)(?=[，、。；：\s（(“”]|和|与|及|等|出席|主持|表示|指出|说|在|介绍|强调|会见|会谈|致辞|参加|一行|同志|$)"
)
_NAME_THEN_ROLE = re.compile(
    rf"(?:(?<=[，、。；：\s“”])|^)(?P<name>[{HAN}]{{2,3}}?)(?:{ROLES})(?=在|表示|指出|说|强调|介绍|致辞|主持)"
)
_FOREIGN_NAME = re.compile(rf"[{HAN}]{{2,8}}·[{HAN}]{{2,8}}")
_ROLE_IN = re.compile(f"(?:{ROLES})")
ORG_SUFFIXES = (
    "委员会", "办公室", "管理局", "总局", "研究院", "研究所", "研究中心", "中心", "协会", "学会", "联合会", "商会",
    "基金会", "有限公司", "股份有限公司", "集团", "公司", "大学", "学院", "学校", "医院", "银行", "博物馆",
    "部", "局", "厅", "委", "署", "院", "组织", "联盟", "政府", "法院", "检察院", "报社", "电视台", "日报",
)
_ORG_END = re.compile("(" + "|".join(sorted((x for x in ORG_SUFFIXES if len(x) > 1), key=len, reverse=True)) + ")$")
_SINGLE_SUFFIXES = {x for x in ORG_SUFFIXES if len(x) == 1}
_PLACE_END = re.compile("[省市县区镇乡村州盟旗岛洲湾港]$|自治区$|特别行政区$")
_COMMON_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴孔汤常温康牛樊葛邢齐乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿焦俞左柳甘祝包宁尚舒阮柯纪梅童凌毕单季裴霍涂成谷盛曲翁冉骆辛靳管柴鲍喻祁蒲房滕屈饶解牟艾尤阳穆卓栾虞")


def _is_org_piece(word: str, flag: str) -> bool:
    """Does this token end an organisation name?"""
    if flag == "nt":
        return True
    if flag in {"v", "vn", "vd", "a", "ad", "d", "p", "c", "u", "uj", "x", "m", "q", "r", "f", "t"} and word not in _SINGLE_SUFFIXES:
        return False
    return bool(_ORG_END.search(word)) or word in _SINGLE_SUFFIXES
_PROPER_FLAGS = {"ns", "nt", "nz", "nrt", "j"}
_ORG_INNER_FLAGS = {"ns", "nt", "nz", "n", "nrt", "j", "vn", "b", "nr", "ng", "an", "l", "nrfg"}
_BAD_PERSON_CHARS = set("的了是在和与及等为对将把被从向到也都就又而但或并其该此本各某每")


def _looks_like_name(name: str) -> bool:
    if not 2 <= len(name) <= 4 or any(ch in _BAD_PERSON_CHARS for ch in name):
        return False
    return name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES


class Extractor:
    """Finds ``(kind, surface)`` entity mentions; build one per site (it owns a tokenizer)."""

    def __init__(self, data: EntityData) -> None:
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        self.data = data
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()
        self._pos = jieba.posseg.POSTokenizer(self._tokenizer)
        tags = {"PER": "nr", "ORG": "nt", "LOC": "ns"}
        for kind, names in data.add.items():
            for name in names:
                self._pos.tokenizer.add_word(name, 2000, tags[kind])
        for alias, target in data.aliases.items():
            kind = data.kind_of_known(target) or "ORG"
            self._pos.tokenizer.add_word(alias, 2000, tags[kind])
            self._pos.tokenizer.add_word(target, 2000, tags[kind])
        self._pos.load_word_tag(self._pos.tokenizer.get_dict_file())
        self._known_kind = {name: kind for kind, names in data.add.items() for name in names}
        for alias, target in data.aliases.items():
            self._known_kind.setdefault(alias, data.kind_of_known(target) or "ORG")

    def _tag(self, text: str) -> list[tuple[str, str]]:
        pairs = []
        for pair in self._pos.cut(text):
            word, flag = pair.word, pair.flag
            if word in self._known_kind:
                flag = {"PER": "nr", "ORG": "nt", "LOC": "ns"}[self._known_kind[word]]
            pairs.append((word, flag))
        return pairs

    def extract(self, text: str) -> list[tuple[str, str]]:
        """``(kind, surface)`` for each entity mention in ``text``, in order, repeats kept."""
        found: list[tuple[int, str, str]] = []
        for match in _ROLE_THEN_NAME.finditer(text):
            if _looks_like_name(match["name"]):
                found.append((match.start("name"), "PER", match["name"]))
        for match in _NAME_THEN_ROLE.finditer(text):
            if _looks_like_name(match["name"]):
                found.append((match.start("name"), "PER", match["name"]))
        for match in _FOREIGN_NAME.finditer(text):
            left, right = match.group(0).split("·", 1)
            roles = list(_ROLE_IN.finditer(left))
            offset = roles[-1].end() if roles else max(0, len(left) - 4)
            if len(left) - offset >= 2:
                found.append((match.start() + offset, "PER", left[offset:] + "·" + right))
        confirmed = {surface for _, kind, surface in found if kind == "PER"}
        tokens = self._tag(text)
        offsets = []
        position = 0
        for word, _ in tokens:
            offsets.append(position)
            position += len(word)
        index = 0
        while index < len(tokens):
            word, flag = tokens[index]
            start = offsets[index]
            if word in self._known_kind and self._known_kind[word] != "ORG":
                found.append((start, self._known_kind[word], word))
                index += 1
                continue
            if _is_org_piece(word, flag):
                # extend forward over further organisation parts (工业和信息化部 + 无线电 + 管理局)
                end = index
                probe = index + 1
                while probe < len(tokens) and tokens[probe][1] in _ORG_INNER_FLAGS:
                    if _is_org_piece(*tokens[probe]):
                        end = probe
                    probe += 1
                    if probe - index > 6:
                        break
                # extend back over a proper-noun lead (中国 + 卫星导航系统管理办公室)
                begin = index
                back = index - 1
                while back >= 0 and tokens[back][1] in _ORG_INNER_FLAGS and index - back <= 5:
                    if tokens[back][1] in _PROPER_FLAGS:
                        begin = back
                    back -= 1
                surface = "".join(w for w, _ in tokens[begin : end + 1])
                lead_flag = tokens[begin][1]
                ends_well = _is_org_piece(*tokens[end]) and (tokens[end][1] != "nt" or end > begin or word in self._known_kind or _ORG_END.search(word))
                if (lead_flag in _PROPER_FLAGS or tokens[begin][0] in self._known_kind) and len(surface) >= 3 and ends_well:
                    found.append((offsets[begin], "ORG", surface))
                    index = end + 1
                    continue
            if flag == "nr" and _looks_like_name(word) and (
                word in confirmed or (len(word) == 3 and word[0] in _COMMON_SURNAMES)
            ):
                found.append((start, "PER", word))
            elif flag in {"ns", "nrt"} and len(word) >= 2 and _PLACE_END.search(word):
                found.append((start, "LOC", word))
            index += 1
        found.sort(key=lambda f: (f[0], -len(f[2])))
        out: list[tuple[str, str]] = []
        covered_until = -1
        for start, kind, surface in found:
            if start < covered_until:
                continue
            if surface in self.data.ignore or len(surface) < 2:
                continue
            out.append((kind, surface))
            covered_until = start + len(surface)
        return out
