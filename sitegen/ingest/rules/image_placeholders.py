"""Drop image placeholders left where pictures were: ``图片关键词``, ``[图片]``, ``点击查看大图``,
bare ``图片``/``img`` lines."""

import re

from sitegen.ingest.cleaned import Cleaned

_PLACEHOLDER = re.compile(
    r"^[\[【(（]?\s*(图片关键词|图片|图像|img|image|点击查看大图|点击图片查看大图|查看大图|配图|视频加载中[.…。]*)\s*[\]】)）]?$",
    re.I,
)


def apply(doc: Cleaned) -> Cleaned:
    return doc.with_text("\n".join(line for line in doc.lines() if not _PLACEHOLDER.match(line)))
