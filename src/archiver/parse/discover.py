"""Discovery for sites no profile knows: sitemap.xml and RSS / Atom feeds.

A sitemap's <loc> entries and a feed's item links are articles; a sitemap index's entries and
the feeds an HTML page announces (<link rel="alternate" type="application/rss+xml">) are
listings. What a sitemap or feed said about a URL is remembered (path + query -> kind), so the
generic profile can classify the links the crawler later asks it about.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

from lxml import etree

from archiver.parse.page import absolute

FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml",
              "application/rdf+xml", "application/feed+json"}
FEED_PATH = re.compile(r"(?:sitemap[\w-]*\.xml|/feeds?/?|/rss/?|\.rss|\.atom|/atom/?|feed\.xml|"
                       r"rss\.xml|atom\.xml|index\.xml)$", re.I)
_XML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
                        rb"<(?:[\w-]+:)?(rss|feed|urlset|sitemapindex|RDF)\b", re.S)
_LIMIT = 200_000

_listed: dict[str, str] = {}
_lock = threading.Lock()


def _key(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def remember(url: str, kind: str) -> None:
    with _lock:
        if len(_listed) >= _LIMIT:
            _listed.clear()
        _listed.setdefault(_key(url), kind)


def listed_kind(url: str) -> str | None:
    """ "article" / "listing" when a sitemap or feed said so; "listing" for feed-like paths."""
    try:
        key = _key(url)
    except ValueError:
        return None
    kind = _listed.get(key)
    if kind:
        return kind
    return "listing" if FEED_PATH.search(key.split("?", 1)[0]) else None


def feed_kind(data: bytes) -> str | None:
    """ "rss" | "feed" (Atom) | "urlset" | "sitemapindex" | "RDF" for feeds and sitemaps."""
    match = _XML_START.match(data[:4096])
    return match.group(1).decode() if match else None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def feed_links(data: bytes, base_url: str) -> list[str] | None:
    """Absolute URLs a sitemap or feed lists (remembered with their kind); None for other input."""
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
            entry = "listing" if kind == "sitemapindex" else "article"
        elif kind == "feed" and name == "link" and _local(el.getparent().tag) == "entry" \
                and el.get("rel", "alternate") == "alternate":
            url, entry = absolute(el.get("href"), base_url), "article"
        elif kind in ("rss", "RDF") and name == "link" and _local(el.getparent().tag) == "item":
            url, entry = absolute((el.text or el.get("href") or "").strip(), base_url), "article"
        else:
            continue
        if url:
            found.setdefault(url, entry)
    for url, entry in found.items():
        remember(url, entry)
    return list(found)


def announced_feeds(root, base: str) -> list[str]:
    """The feeds an HTML page announces in its <head> (remembered as listings)."""
    feeds = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower()
        if "alternate" in rel and kind in ("application/rss+xml", "application/atom+xml"):
            url = absolute(link.get("href"), base)
            if url:
                remember(url, "listing")
                feeds.append(url)
    return feeds


def sitemap_of(url: str) -> str | None:
    """The conventional sitemap of a start URL's site: https://host/sitemap.xml."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}/sitemap.xml"
