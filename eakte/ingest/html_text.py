"""HTML mail bodies as plain text: no scripts, no styles, nothing fetched.

Links keep their target as text (``label <https://…>``) and images their alternative text; no
URL is ever requested, so a tracking pixel stays what it is: a line in the original.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"}
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol", "dl",
    "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "form", "address",
}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.href: list[str] = []
        self.pre = 0  # inside <pre>: line breaks of the source are the text's

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
            return
        if self.skipping:
            return
        values = {k: v or "" for k, v in attrs}
        if tag == "pre":
            self.pre += 1
        if tag in _BLOCK:
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n• ")
        elif tag in ("td", "th"):
            self.out.append("  ")
        elif tag == "img":
            alt = values.get("alt", "").strip()
            self.out.append(f"[image{': ' + alt if alt else ''}]")
        if tag == "a":
            self.href.append(values.get("href", "").strip())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP:
            self.skipping -= 1
        elif tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping:
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in _BLOCK:
            self.out.append("\n\n")
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href.startswith(("http:", "https:", "mailto:")):
                self.out.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data if self.pre else data.replace("\n", " "))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.out).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
