"""Drop a site's footer notices where they end up inside an article: copyright lines
(``版权所有``, ``Copyright ©``, ``All rights reserved``), registration numbers (``京ICP备…``,
``公网安备``, ``国内统一刊号``, 备案号, 许可证编号), reprint warnings (``未经许可不得转载``) and
disclaimers (``纯属作者个人观点，与本站无关``), when the line is short enough to be only that,
or holds no sentence (a footer's row of notices)."""

import re

from sitegen.ingest.cleaned import Cleaned

_FOOTER = re.compile(
    r"版权所有|版权归.{0,12}所有|copyright|©|all rights reserved|\(c\)\s*\d{4}|ICP[备证]|公网安备|统一刊号|邮发代号|"
    r"未经.{0,12}(?:许可|授权|同意).{0,12}(?:转载|复制|摘编)|(?:禁止|严禁|谢绝).{0,6}转载|"
    r"(?:纯属|仅代表|仅供).{0,8}个人(?:观点|意见|看法).{0,16}(?:无关|立场)|(?:备案号|许可证编号|主办单位|承办单位|邮编)\s*[:：]|"
    r"转载.{0,4}(?:申请|事宜)",
    re.I,
)
_SENTENCE = re.compile(r"[。，；！？]")
MAX_CHARS = 80


def apply(doc: Cleaned) -> Cleaned:
    kept = [line for line in doc.lines()
            if not ((len(line) <= MAX_CHARS or not _SENTENCE.search(line)) and _FOOTER.search(line))]
    return doc.with_text("\n".join(kept))
