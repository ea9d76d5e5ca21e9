"""Drop site widgets: contact buttons (电话咨询 / 邮件咨询 / 在线地图 / QQ客服 …), share bars
(分享到：…), font-size switches (字号：大 中 小), print/close buttons and popups (X 关闭)."""

import re

from sitegen.ingest.cleaned import Cleaned

_WIDGET_WORDS = (
    "电话咨询|邮件咨询|在线地图|QQ客服|在线客服|微信咨询|在线咨询|联系我们|返回顶部|回到顶部|"
    "打印本页|打印|关闭窗口|关闭本窗口|关闭|收藏本页|加入收藏|设为首页|扫一扫|微信扫一扫|分享|我要纠错|"
    "上一篇|下一篇|返回列表|主要内容|正文|文章正文|全文|【打印】|【关闭】|\\[打印\\]|\\[关闭\\]"
)
_WIDGET_LINE = re.compile(rf"^(?:[xX×✕]\s*)?(?:{_WIDGET_WORDS})(?:\s*[xX×✕])?$")
_SHARE = re.compile(r"^(分享到|分享至|一键分享|扫一扫|用微信扫|微信扫一扫)\s*[:：]?.{0,40}$")
_FONT_SIZE = re.compile(r"^.{0,20}字号\s*[:：]?\s*[【\[]?\s*大\s*[】\]]?\s*[【\[]?\s*中\s*[】\]]?\s*[【\[]?\s*小.{0,30}$")


def apply(doc: Cleaned) -> Cleaned:
    kept = [
        line
        for line in doc.lines()
        if not (_WIDGET_LINE.match(line) or _SHARE.match(line) or _FONT_SIZE.match(line))
    ]
    return doc.with_text("\n".join(kept))
