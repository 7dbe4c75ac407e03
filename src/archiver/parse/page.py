"""Loading a page: input checks, decoding, the lxml tree, and its structured data.

Structured data (JSON-LD, OpenGraph, ``<meta>``) is read first and kept apart from the
markup, because it survives redesigns best and is the first layer every field tries.
"""

from __future__ import annotations

import html
import json
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree

from archiver.errors import InputTooLarge, NotAnArticle
from archiver.parse.decode import decode_html

MAX_INPUT_BYTES = 20 * 1024 * 1024  # a real article page is ~50 KB; 20 MB is surely not one

# schema.org types that mean "this page is one article" / "this page is not an article".
ARTICLE_TYPES = {"article", "newsarticle", "scholarlyarticle", "medicalscholarlyarticle",
                 "blogposting", "report", "techarticle", "analysisnewsarticle",
                 "opinionnewsarticle", "reportagenewsarticle", "reviewnewsarticle", "posting",
                 "socialmediaposting", "liveblogposting"}
NON_ARTICLE_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage",
                     "contactpage", "aboutpage", "faqpage", "product", "publicationissue",
                     "periodical", "event", "course", "checkoutpage", "qapage"}

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Characters an XML tree cannot hold (lxml refuses them in any string set on an element, so one
# stray \x01 pasted into an article made the page unparseable). Browsers show none of them.
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_XML_BYTES = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))
_HTML_HINT = re.compile(r"<(?:!doctype\s+html|html|head|body|title|div|p|article|h1|meta)\b", re.I)


@dataclass
class Structured:
    """Machine-readable metadata of a page: its JSON-LD article object and its meta tags."""

    article: dict | None = None  # the JSON-LD object describing the article, if any
    types: set[str] = field(default_factory=set)  # every JSON-LD @type seen (lower case)
    meta: dict[str, str] = field(default_factory=dict)  # first value per lower-cased name
    meta_all: dict[str, list[str]] = field(default_factory=dict)
    canonical: str | None = None
    title_tag: str | None = None
    base_url: str | None = None

    def first(self, *names: str) -> str | None:
        for name in names:
            value = self.meta.get(name)
            if value and value.strip():
                return value.strip()
        return None


@dataclass(frozen=True)
class Document:
    """A decoded page, as every extractor receives it: its text, its bytes when they are
    UTF-8 (so lxml parses them without a re-encoding), and a fresh lxml tree on demand."""

    text: str
    utf8: bytes | None = None

    @classmethod
    def from_input(cls, data: str | bytes, headers: dict | None = None) -> Document:
        return cls(*checked_input(data, headers))

    def tree(self) -> etree._Element:
        return load_tree(self.text, self.utf8)


def checked_input(data: str | bytes, headers: dict | None = None) -> tuple[str, bytes | None]:
    """(text, utf8): the page as text after the input checks, and its bytes when they are
    already UTF-8 (so lxml can parse them without a re-encoding)."""
    if data is None:
        raise NotAnArticle("no input")
    size = len(data)
    if size > MAX_INPUT_BYTES:
        raise InputTooLarge(f"input is {size / 1048576:.0f} MB, over the {MAX_INPUT_BYTES // 1048576} MB cap")
    content_type = _content_type(headers)
    if content_type and not ("html" in content_type or content_type.startswith("text/")):
        raise NotAnArticle(f"content type {content_type}, not HTML")
    utf8 = None
    if isinstance(data, bytes):
        if not data or data.isspace():
            raise NotAnArticle("empty page")
        text, encoding = decode_html(data, headers)
        utf8 = data if encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf") else None
    else:
        text = data
    if not text or text.isspace():
        raise NotAnArticle("empty page")
    if "\x00" in text[:2048]:
        raise NotAnArticle("binary data, not an HTML page")
    if not _HTML_HINT.search(text, 0, 65536):
        raise NotAnArticle("no HTML markup")
    if _has_non_xml_chars(text, utf8):
        text, utf8 = _NOT_XML_CHARS.sub(lambda m: " " if m.group() == "\x0c" else "", text), None
    return text, utf8


def _has_non_xml_chars(text: str, utf8: bytes | None) -> bool:
    """Does the page hold a character XML cannot? Looked for in the UTF-8 bytes (encoded here
    when the page was not UTF-8): deleting bytes in C is five times faster than a regex over
    the whole text (about 0.07 ms of a 1.5 ms parse), and in UTF-8 a control byte is always
    that control character."""
    if utf8 is None:
        utf8 = text.encode("utf-8", "surrogatepass")
    # U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8: found in the bytes, not the text
    return len(utf8.translate(None, _NOT_XML_BYTES)) != len(utf8) or b"\xef\xbf\xbe" in utf8 or b"\xef\xbf\xbf" in utf8


def _content_type(headers: dict | None) -> str:
    for name, value in (headers or {}).items():
        if name.lower() == "content-type":
            return (value or "").split(";")[0].strip().lower()
    return ""


def load_tree(text: str, utf8: bytes | None = None) -> etree._Element:
    """The page's lxml tree (from `utf8`, the page's own bytes, when they are UTF-8). Plain
    etree elements, not lxml.html's: its per-element class lookup costs more than the parse."""
    try:
        # UTF-8 bytes with the encoding given: faster than a str, and never trips lxml's
        # "unicode strings with encoding declaration" error.
        if utf8 is None:
            utf8 = _XML_DECLARATION.sub("", text, count=1).encode("utf-8", "surrogatepass")
        root = etree.fromstring(utf8, _parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise NotAnArticle(f"no HTML document ({exc})") from None
    if root is None:
        raise NotAnArticle("no HTML document")
    return root


_PARSERS = threading.local()


def _parser() -> etree.HTMLParser:
    """One parser per thread: an lxml parser serves one parse at a time (crawl workers)."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False,
            default_doctype=False)
    return parser


def is_inside(el, ancestor) -> bool:
    """Is `el` the element `ancestor` or inside it? (A climb with getparent(): a quarter of the
    cost of any() over iterancestors().)"""
    while el is not None:
        if el is ancestor:
            return True
        el = el.getparent()
    return False


def text_of(el) -> str:
    """All text inside an element (what lxml.html's text_content() gives). Serialised as text
    in C: five times faster than joining `itertext()`, and the parser calls it ~30 times a page.
    (The two differ only on entity-reference nodes, which an HTML parse never makes.)
    Most calls are on elements without children (links, cells, labels), whose text is all
    there is: reading it costs a quarter of a serialisation."""
    if not len(el):
        return el.text or ""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


# ------------------------------------------------------------------ structured data

def structured_data(root, url: str | None) -> Structured:
    data = Structured()
    base_href = canonical_href = None
    scripts, title_seen = [], False
    # One walk over the five tags (each root.iter(tag) is a walk of the whole tree).
    for el in root.iter("base", "meta", "link", "title", "script"):
        tag = el.tag
        if tag == "meta":
            key = (el.get("property") or el.get("name") or el.get("itemprop")
                   or el.get("http-equiv") or "").strip().lower()
            content = el.get("content")
            if key and content is not None:
                data.meta.setdefault(key, content)
                data.meta_all.setdefault(key, []).append(content)
        elif tag == "script":
            if "ld+json" in (el.get("type") or "").lower():
                scripts.append(el.text or "")
        elif tag == "link":
            if canonical_href is None and "canonical" in (el.get("rel") or "").lower().split() \
                    and (el.get("href") or "").strip():
                canonical_href = el.get("href").strip()
        elif tag == "title":
            if not title_seen:  # the first <title> (an <svg> may hold others)
                data.title_tag = " ".join(text_of(el).split()) or None
                title_seen = True
        elif base_href is None and el.get("href"):
            base_href = el.get("href")
    data.base_url = urljoin(url or "", base_href) if base_href else url
    if canonical_href is not None:
        data.canonical = absolute(canonical_href, data.base_url)
    for text in scripts:
        for item in _json_ld_items(text):
            types = _types(item)
            data.types |= types
            if data.article is None and types & ARTICLE_TYPES:
                data.article = item
    return data


def _json_ld_items(text: str) -> list[dict]:
    """Every object of a JSON-LD script, with @graph and mainEntity unfolded."""
    try:
        value = json.loads(text.strip().rstrip(";"), strict=False)
    except ValueError:
        return []
    items, stack = [], [value]
    while stack:
        value = stack.pop(0)
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            items.append(value)
            for key in ("@graph", "mainEntity"):
                if isinstance(value.get(key), (list, dict)):
                    stack.append(value[key])
    return items


def _types(item: dict) -> set[str]:
    value = item.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def ld_list(value) -> list:
    """A JSON-LD value as a list (a single value is a list of one)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ld_text(item: dict | None, *keys: str) -> str | None:
    """The first of `keys` with a text value: a string or number, a list's first item, an
    object's name / @value. JSON-LD often holds HTML entities: they are decoded."""
    if not item:
        return None
    for key in keys:
        value = item.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = value.get("name") or value.get("@value")
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            value = str(value).strip()
            return html.unescape(value) if "&" in value else value
    return None


def ld_names(value) -> list[str]:
    """The names of a JSON-LD value that is a name, an object with a name, or a list of them."""
    names = []
    for item in ld_list(value):
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, list):
            name = " ".join(n for n in name if isinstance(n, str))
        if isinstance(name, str) and name.strip():
            names.append(" ".join(name.split()))
    return names


def ld_parts(ld: dict) -> list[dict]:
    """The isPartOf chain of a JSON-LD article: issue -> volume -> periodical."""
    parts, value = [], ld.get("isPartOf")
    while value and len(parts) < 4:
        value = value[0] if isinstance(value, list) and value else value
        if not isinstance(value, dict):
            break
        parts.append(value)
        value = value.get("isPartOf")
    return parts


def absolute(href: str | None, base: str | None) -> str | None:
    """`href` resolved against `base`, fragment removed; None for non-web links."""
    if not href:
        return None
    href = href.strip()
    if href.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    # Fast paths (urljoin costs ~10 µs): a site-absolute path on a web base, a plain web URL.
    if href.startswith("/") and not href.startswith("//") and base and "./" not in href:
        origin = _origin(base)
        if origin:
            return origin + href.split("#", 1)[0]
    if href.startswith(("http://", "https://")) and "./" not in href and " " not in href:
        return href.split("#", 1)[0]
    try:
        joined = urljoin(base or "", href)
        parts = urlsplit(joined)
    except ValueError:
        return None
    if base is None and not parts.scheme:
        return urlunsplit(parts._replace(fragment="")) or None
    if parts.scheme not in ("http", "https"):
        return None
    return urlunsplit(parts._replace(fragment=""))


@lru_cache(maxsize=1024)
def _origin(base: str) -> str | None:
    """ "https://host:port" of an http(s) base URL (cached: one page resolves many links)."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def without_query(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return urlunsplit(parts._replace(query="", fragment=""))


_TRACKING_QUERY = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_[ce]id|_hs\w+)$", re.I)


def clean_canonical(url: str | None) -> str | None:
    """A URL without tracking parameters (utm_*, fbclid, ...) and fragment: og:url often has them."""
    if not url or "?" not in url:
        return url.split("#", 1)[0] if url else None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING_QUERY.match(k)]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))
