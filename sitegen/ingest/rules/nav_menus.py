"""Drop navigation menus and SEO keyword spam: lines made of three or more short items
separated by ``|``/``丨``/``｜``/``·``/spaces (首页 | 新闻 | 政策 | 联系我们), and lines of six or
more short keywords with no sentence punctuation."""

import re

from sitegen.ingest.cleaned import Cleaned

_MENU_SPLIT = re.compile(r"\s*[|丨｜•·]\s*")
_WORD_SPLIT = re.compile(r"[\s,，;；/]+")
_SENTENCE = re.compile(r"[。！？!?：:“”\"]")


def _is_menu(line: str) -> bool:
    parts = [p for p in _MENU_SPLIT.split(line) if p]
    return len(parts) >= 3 and all(len(p) <= 8 for p in parts) and not _SENTENCE.search(line)


def _is_keyword_spam(line: str) -> bool:
    words = [w for w in _WORD_SPLIT.split(line) if w]
    return len(words) >= 6 and all(len(w) <= 8 for w in words) and not _SENTENCE.search(line) and "、" not in line


def apply(doc: Cleaned) -> Cleaned:
    return doc.with_text("\n".join(line for line in doc.lines() if not (_is_menu(line) or _is_keyword_spam(line))))
