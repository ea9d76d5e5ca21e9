"""Drop site widgets: contact buttons (电话咨询 / 邮件咨询 / 在线地图 / QQ客服 …), share bars
(分享到：…), font-size switches (字号：大 中 小), print/close buttons and popups (X 关闭), rows
of bracketed buttons (【推荐】【打印】【关闭】, also before the text they were printed beside),
counters (已被阅读178次, 已有1件评论), an account's line with a relative time (某某科技 昨天),
which gives no date to keep, and short labelled widgets (上一篇：…, 联系我们：…, 热门词：…)."""

import re

from sitegen.ingest.cleaned import Cleaned

_WIDGET_WORDS = (
    "电话咨询|邮件咨询|在线地图|QQ客服|在线客服|微信咨询|在线咨询|联系我们|返回顶部|回到顶部|"
    "打印本页|打印|关闭窗口|关闭本窗口|关闭|收藏本页|加入收藏|设为首页|扫一扫|微信扫一扫|分享|我要纠错|"
    "上一篇|下一篇|返回列表|主要内容|正文|文章正文|全文|【打印】|【关闭】|\\[打印\\]|\\[关闭\\]|查看完整版本|返回首页|"
    "网站地图|关于我们|隐私政策|免责声明|意见反馈|网站声明"
)
_ONE_WIDGET = rf"[【\[]?\s*(?:{_WIDGET_WORDS})\s*[】\]]?"
_WIDGET_LINE = re.compile(rf"^(?:[xX×✕]\s*)?{_ONE_WIDGET}(?:[\s|｜/]*{_ONE_WIDGET})*(?:\s*[xX×✕])?$")
_HOME_LINK = re.compile(r"^\S{1,6}首页$")  # 网易首页, 新浪首页: a link to the site's front page
_SHARE = re.compile(r"^(分享到|分享至|一键分享|扫一扫|用微信扫|微信扫一扫)\s*[:：]?.{0,40}$"
                    r"|^(?=.{0,60}$).*扫(?:描|码)?.{0,8}二维码")
_BUTTON = re.compile(r"[【\[]\s*[^】\[\]【]{1,12}?\s*[】\]]")
_LEADING_BUTTONS = re.compile(rf"^(?:\s*{_BUTTON.pattern}){{3,}}\s*")
_COUNTER = re.compile(r"(?:已被|共)?(?:阅读|浏览|点击|访问)\s*[:：]?\s*\d+\s*次|\d+\s*(?:人|次)(?:阅读|浏览)"
                      r"|已有\s*\d+\s*[件条]评论|\d+\s*条评论")
_RELATIVE_BYLINE = re.compile(r"^(?:原创\s+)?(?:\S{1,20}\s+){1,3}(?:昨天|前天|今天|刚刚|\d+\s*(?:分钟|小时|天)前)$")
MAX_COUNTER_LINE = 60
_LABELLED_WIDGET = re.compile(r"^(?:上一篇|下一篇|上一条|下一条|上一页|下一页|前一篇|后一篇|热门词|热词|相关搜索|"
                              r"联系我们|联系电话|客服电话|举报电话|新闻热线|广告热线|投稿邮箱|查看完整版本)\s*[:：]")
MAX_LABELLED_LINE = 60
_FONT_SIZE = re.compile(r"^.{0,20}字号\s*[:：]?\s*[【\[]?\s*大\s*[】\]]?\s*[【\[]?\s*中\s*[】\]]?\s*[【\[]?\s*小.{0,30}$")


def _is_widget(line: str) -> bool:
    if (_WIDGET_LINE.match(line) or _SHARE.match(line) or _FONT_SIZE.match(line) or _RELATIVE_BYLINE.match(line)
            or _HOME_LINK.match(line)):
        return True
    if len(line) <= MAX_LABELLED_LINE and _LABELLED_WIDGET.match(line):
        return True  # 上一篇：…  联系我们：025-96060  热门词：…
    if len(_BUTTON.findall(line)) >= 3 and len("".join(_BUTTON.sub("", line).split())) <= 8:
        return True  # 页面功能 【我来说两句】【推荐】【打印】【关闭】
    return len(line) <= MAX_COUNTER_LINE and "。" not in line and bool(_COUNTER.search(line))


def apply(doc: Cleaned) -> Cleaned:
    kept = [_LEADING_BUTTONS.sub("", line) for line in doc.lines() if not _is_widget(line)]
    return doc.with_text("\n".join(kept))
