"""The links of a fetched page, each with what the page says it is.

    html_links(root, base_url) -> [(url, hint)]        an HTML page's links and announced feeds
    feed_links(data, base_url) -> [(url, hint)] | None  a sitemap's or feed's entries; None if not one

A feed's items and a sitemap's <loc>s are hinted "article"; a sitemap index's entries and the
feeds an HTML page announces (<link rel="alternate" type="application/rss+xml">) "feed"; plain
links None. Nothing is remembered between calls: the crawler queues each link with its hint,
and what a page is, its content decides once it is fetched (see hubs.py).
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import urlsplit

from lxml import etree

from archiver.parse.page import MAX_INPUT_BYTES, absolute

ANNOUNCED_TYPES = ("application/rss+xml", "application/atom+xml")
_XML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
                        rb"<(?:[\w-]+:)?(rss|feed|urlset|sitemapindex|RDF)\b", re.S)
GZIP_MAGIC = b"\x1f\x8b"

Link = tuple[str, "str | None"]


def feed_kind(data: bytes) -> str | None:
    """ "rss" | "feed" (Atom) | "urlset" | "sitemapindex" | "RDF" for feeds and sitemaps."""
    match = _XML_START.match(data[:4096])
    return match.group(1).decode() if match else None


def gunzipped(data: bytes, limit: int = MAX_INPUT_BYTES) -> bytes | None:
    """A gzip file's content (sitemap.xml.gz), at most `limit` bytes; None if it is not gzip
    or inflates beyond the limit (a bomb is refused, not read)."""
    if not data.startswith(GZIP_MAGIC):
        return None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        content = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None
    return content if len(content) <= limit else None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def feed_links(data: bytes, base_url: str) -> list[Link] | None:
    """The absolute URLs a sitemap or feed lists, with their hints; None for other input."""
    data = gunzipped(data) or data
    kind = feed_kind(data)
    if kind is None:
        return None
    try:
        root = etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False,
                                                      no_network=True, huge_tree=False))
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    found: dict[str, str] = {}
    for el in root.iter():
        name = _local(el.tag)
        if kind in ("urlset", "sitemapindex") and name == "loc":
            url = absolute((el.text or "").strip(), base_url)
            hint = "feed" if kind == "sitemapindex" else "article"
        elif kind == "feed" and name == "link" and _local(el.getparent().tag) == "entry" \
                and el.get("rel", "alternate") == "alternate":
            url, hint = absolute(el.get("href"), base_url), "article"
        elif kind in ("rss", "RDF") and name == "link" and _local(el.getparent().tag) == "item":
            url, hint = absolute((el.text or el.get("href") or "").strip(), base_url), "article"
        else:
            continue
        if url:
            found.setdefault(url, hint)
    return list(found.items())


def announced_feeds(root, base: str) -> list[str]:
    """The feeds an HTML page announces in its <head>."""
    feeds = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and (link.get("type") or "").lower() in ANNOUNCED_TYPES:
            url = absolute(link.get("href"), base)
            if url:
                feeds.append(url)
    return feeds


def page_base(root, url: str) -> str:
    """What the page's relative links resolve against: its <base href>, else its URL."""
    bases = root.xpath("//base/@href")
    return absolute(bases[0], url) or url if bases else url


def html_links(root, base_url: str) -> list[Link]:
    """Absolute http(s) URLs of the page's links, fragments stripped, deduplicated, in order;
    then the feeds it announces (hinted "feed")."""
    base = page_base(root, base_url)
    seen: dict[str, str | None] = {}
    for href in root.xpath("//a/@href|//area/@href"):
        url = absolute(href, base)
        if url:
            seen.setdefault(url, None)
    for url in announced_feeds(root, base):
        seen[url] = "feed"
    return list(seen.items())


def sitemap_of(url: str) -> str | None:
    """The conventional sitemap of a start URL's site: https://host/sitemap.xml."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}/sitemap.xml"
