"""Alias-aware search: a page found by any name of an entity it names.

The entity data (``sitegen/data/entities.yaml`` and a site's ``content/_data/entities.yaml``)
says which names are one entity: 工信部, 工业和信息化部门 and 中华人民共和国工业和信息化部 are
工业和信息化部. In the copy of a page that Pagefind indexes (never in the published page),
each sentence that names such an entity ends with the entity's names in brackets, once per
mention, as Chinese news writes them: ……举行工作会谈（工信部、工业和信息化部、…）。 A
search for 工信部 then finds the pages that only write 工业和信息化部, as often as they name it
(ranked as if they said it), still as a phrase; the excerpt shows both names. The names go
at the end of the sentence, not after the mention, so no word of the text is cut in two
(湖南省政府 stays a phrase). Names are matched longest first: 上海合作组织 names the
organisation, not the city 上海.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["AliasExpander", "NO_ALIASES"]

_SENTENCE_END = "。！？；!?;"
_SENTENCES = re.compile(f"(?<=[{_SENTENCE_END}])")


@dataclass(frozen=True)
class AliasExpander:
    """Adds to each name of an entity in a text the entity's other names."""

    others: Mapping[str, str] = field(default_factory=dict)
    """Each name -> the bracket its sentence gains: （every name of its entity, joined by 、）.
    The name used is in it too: the text may hold it inside a longer word (合肥市 in 合肥市委)
    that the index splits differently from the name alone."""
    pattern: re.Pattern[str] | None = None

    @classmethod
    def from_aliases(cls, aliases: Mapping[str, str]) -> AliasExpander:
        """From the entity data's ``alias -> canonical name`` map."""
        groups: dict[str, set[str]] = defaultdict(set)
        for alias, canonical in aliases.items():
            if alias.strip() and canonical.strip() and alias != canonical:
                groups[canonical].update((alias, canonical))
        others: dict[str, str] = {}
        for names in groups.values():
            bracket = f"（{'、'.join(sorted(names, key=lambda n: (len(n), n)))}）"
            for name in names:
                others[name] = bracket
        if not others:
            return cls()
        longest_first = sorted(others, key=lambda n: (-len(n), n))  # 中华人民共和国工业和信息化部 before 工业和信息化部
        return cls(others, re.compile("|".join(map(re.escape, longest_first))))

    def expand(self, text: str) -> str:
        """``text`` with each sentence that names entities ending with their other names."""
        if self.pattern is None or self.pattern.search(text) is None:
            return text
        out = []
        for sentence in _SENTENCES.split(text):
            brackets = "".join(self.others[m.group(0)] for m in self.pattern.finditer(sentence))
            if brackets:
                body = sentence.rstrip()
                end = len(body) - len(body.rstrip(_SENTENCE_END))
                sentence = body[:len(body) - end] + brackets + body[len(body) - end:] + sentence[len(body):]
            out.append(sentence)
        return "".join(out)


NO_ALIASES = AliasExpander()
