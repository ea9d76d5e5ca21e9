"""Drop an article's last line when it ends on a colon: it introduced something the page
showed after it (a sign-up form, a list of contacts, a table) that is no longer there
(``欢迎加入本站邮件列表……请在表格中填入您的邮件地址：``)."""

from sitegen.ingest.cleaned import Cleaned


def apply(doc: Cleaned) -> Cleaned:
    lines = doc.lines()
    last = max((index for index, line in enumerate(lines) if line.strip()), default=None)
    if last is None or not lines[last].rstrip().endswith(("：", ":")) or last == 0:
        return doc
    return doc.with_text("\n".join(lines[:last]))
