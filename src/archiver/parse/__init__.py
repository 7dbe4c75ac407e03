"""Article pages -> `Article` records; links of any page for the crawler.

    parse_article(html, url=None, headers=None) -> Article   (NotAnArticle / InputTooLarge)
    parse_capture(capture) -> Article
    discover_links(html, base_url, headers=None) -> [absolute URLs]

The parse is: bytes -> text (decode.py) -> lxml tree (page.py) -> field rules (article.py),
with the site's knowledge in carlat.py.
"""

from __future__ import annotations

from archiver.errors import InputTooLarge, NotAnArticle
from archiver.parse.article import extract
from archiver.parse.verdict import refuse_by_url
from archiver.parse.page import MAX_INPUT_BYTES, absolute, checked_input, load_tree
from archiver.record import Article, Capture

__all__ = ["MAX_INPUT_BYTES", "NotAnArticle", "discover_links", "parse_article", "parse_capture"]


def parse_article(html: str | bytes, url: str | None = None, headers: dict | None = None) -> Article:
    """Parse one article page. Raises NotAnArticle(reason) for pages that are not one."""
    text, utf8 = checked_input(html, headers)
    refuse_by_url(url)  # a listing or issue URL needs no parse to be refused
    return extract(load_tree(text, utf8), url)


def parse_capture(capture: Capture) -> Article:
    if capture.status and capture.status >= 400:
        raise NotAnArticle(f"HTTP status {capture.status}")
    return parse_article(capture.body, url=capture.url, headers=capture.headers)


def discover_links(html: str | bytes, base_url: str, headers: dict | None = None) -> list[str]:
    """Absolute http(s) URLs of the page's links, fragments stripped, deduplicated, in order."""
    try:
        root = load_tree(*checked_input(html, headers))
    except (NotAnArticle, InputTooLarge):  # nothing to follow in binary, empty or huge input
        return []
    bases = root.xpath("//base/@href")
    base = absolute(bases[0], base_url) if bases else base_url
    seen: dict[str, None] = {}
    for href in root.xpath("//a/@href|//area/@href"):
        url = absolute(href, base)
        if url:
            seen.setdefault(url, None)
    return list(seen)
