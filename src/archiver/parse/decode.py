"""Bytes -> text for HTML pages.

Order (WHATWG's, simplified): a byte-order mark wins outright; then the HTTP ``charset``; then
a ``<meta charset>`` / ``http-equiv`` declaration in the first bytes; then bs4's UnicodeDammit
guesses. A declared charset that does not decode cleanly is treated as a lie and the next source
is tried, so a page served as UTF-8 but written in windows-1252 still reads right; and a server's
Latin-1 default does not override a page that declares UTF-8 and decodes as UTF-8.
"""

from __future__ import annotations

import codecs
import re

from archiver.errors import NotAnArticle

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Browsers decode these labels as windows-1252 (it is a superset that maps 0x80-0x9F to
# printable characters such as curly quotes); decoding them as Latin-1 would give C1 controls.
_WINDOWS_1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "ascii",
                         "us-ascii", "cp1252", "windows-1252", "x-cp1252"}

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)

# Magic numbers of formats a crawler meets instead of HTML.
_BINARY_MAGIC = {
    b"%PDF": "PDF document", b"\x89PNG": "PNG image", b"GIF8": "GIF image",
    b"\xff\xd8\xff": "JPEG image", b"PK\x03\x04": "ZIP archive", b"\x1f\x8b": "gzip data",
    b"RIFF": "RIFF media", b"\x00\x00\x01\x00": "icon",
}

_PRESCAN_BYTES = 4096
# Every byte value except the C0 controls that never appear in text (tab, newlines, form feed
# and carriage return do).
_TEXT_BYTES = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))


def normalise_encoding(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when Python does not know it."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _WINDOWS_1252_ALIASES:
        return "windows-1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(headers: dict | None) -> str | None:
    """The charset of a Content-Type header (header names in any case)."""
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "content-type" and value:
            match = _HEADER_CHARSET.search(value)
            return normalise_encoding(match.group(1)) if match else None
    return None


def meta_charset(data: bytes) -> str | None:
    """The charset declared by ``<meta charset>`` or ``http-equiv`` in the page's first bytes."""
    match = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    if not match:
        return None
    encoding = normalise_encoding(match.group(1).decode("ascii", "replace"))
    # A page that got as far as being parsed as ASCII-compatible bytes cannot really be UTF-16.
    if encoding and encoding.startswith("utf-16"):
        return "utf-8"
    return encoding


def bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def binary_kind(data: bytes) -> str | None:
    """What kind of non-text data this is, or None when it looks like text."""
    for magic, kind in _BINARY_MAGIC.items():
        if data.startswith(magic):
            return kind
    head = data[:1024]
    if b"\x00" in head:
        return "binary data"
    controls = len(head.translate(None, _TEXT_BYTES))  # bytes left = control characters
    if head and controls / len(head) > 0.1:
        return "binary data"
    return None


def _try(data: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(data: bytes, headers: dict | None = None) -> tuple[str, str]:
    """Decode an HTML page; returns (text, encoding used). Raises NotAnArticle for binary data."""
    bom = bom_encoding(data)
    if bom:
        text = _try(data, bom)
        if text is not None:
            return text[1:] if text.startswith("\ufeff") else text, bom
    kind = binary_kind(data)
    if kind:
        raise NotAnArticle(f"{kind}, not an HTML page")
    http = header_charset(headers)
    if http and http != "windows-1252":  # the server's word, unless it is a Latin-1 default
        text = _try(data, http)
        if text is not None:
            return text, http
    meta = meta_charset(data)
    if http == "windows-1252" and meta == "utf-8" and _try(data, "utf-8") is not None:
        # A server default ("charset=ISO-8859-1") over a page that says, and is, UTF-8: the
        # page knows better, and believing the server would turn every curly quote into "â€™".
        http = None
    for encoding in (http, meta, "utf-8"):
        text = _try(data, encoding)
        if text is not None:
            return text, encoding
    return _guess(data)


def _guess(data: bytes) -> tuple[str, str]:
    from bs4 import UnicodeDammit  # imported here: only pages with no usable declaration pay

    dammit = UnicodeDammit(data, ["utf-8", "windows-1252"], is_html=True)
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup, dammit.original_encoding or "unknown"
    return data.decode("utf-8", "replace"), "utf-8 (with replacements)"
