"""An article's Markdown as HTML the portal can serve: markdown-it-py renders it (raw HTML
in the source is escaped, not passed through), then nh3 keeps only a safe set of tags and
attributes — no scripts, styles, event handlers or ``javascript:`` links, whatever the
renderer let by — and gives every link ``rel="noopener noreferrer"``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
        "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@cache
def _markdown() -> MarkdownIt:
    """CommonMark with tables and strikethrough; "html": False escapes raw HTML in the source.
    Built at the first article rendered, not at import (start-up stays light)."""
    # Imported here: the renderer loads only when an article is rendered.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def article_html(source: str) -> str:
    """``source`` (Markdown) as sanitised HTML. An ``# h1`` becomes ``h2``: the page's title
    is its only ``h1``."""
    # Imported here: the sanitiser loads only when an article is rendered.
    import nh3

    html = _markdown().render(source)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
