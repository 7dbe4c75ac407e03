"""Bytes -> text: BOM, HTTP charset, <meta> declarations, and guessing when they lie."""

import codecs

import pytest

from archiver.errors import NotAnArticle
from archiver.parse.decode import decode_html, header_charset, meta_charset, normalise_encoding

TEXT = "Ketamine’s “rapid” effect — 0.5 mg/kg…"


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_utf8_without_any_declaration():
    text, encoding = decode_html(page(TEXT).encode("utf-8"))
    assert TEXT in text and encoding == "utf-8"


def test_windows_1252_declared_in_meta_charset():
    raw = page(TEXT, '<meta charset="windows-1252">').encode("cp1252")
    text, encoding = decode_html(raw)
    assert TEXT in text and encoding == "windows-1252"


def test_windows_1252_declared_in_http_equiv():
    raw = page(TEXT, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">').encode("cp1252")
    assert TEXT in decode_html(raw)[0]


def test_latin1_label_decodes_as_windows_1252_like_browsers():
    raw = page(TEXT, '<meta charset="iso-8859-1">').encode("cp1252")
    assert TEXT in decode_html(raw)[0]


def test_http_charset_wins_over_meta():
    raw = page(TEXT, '<meta charset="utf-8">').encode("cp1252")
    text, _ = decode_html(raw, {"Content-Type": "text/html; charset=windows-1252"})
    assert TEXT in text


def test_a_lying_declaration_is_not_believed():
    raw = page(TEXT, '<meta charset="utf-8">').encode("cp1252")  # says UTF-8, is not
    text, _ = decode_html(raw)
    assert TEXT in text


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-be"])
def test_byte_order_mark_wins(codec):
    raw = page(TEXT).encode(codec)
    if codec == "utf-16-be":
        raw = codecs.BOM_UTF16_BE + raw
    text, _ = decode_html(raw, {"content-type": "text/html; charset=iso-8859-1"})
    assert TEXT in text and not text.startswith("\ufeff")


@pytest.mark.parametrize("raw,kind", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 1 0 obj", "PDF"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    (b"\x00\x01\x02\x03binary\x00\x00stuff", "binary"),
])
def test_binary_data_is_refused(raw, kind):
    with pytest.raises(NotAnArticle, match=kind):
        decode_html(raw)


def test_charset_helpers():
    assert header_charset({"Content-Type": 'text/html; charset="UTF-8"'}) == "utf-8"
    assert header_charset({"content-type": "text/html"}) is None
    assert meta_charset(b'<meta content="text/html; charset=Windows-1252" http-equiv="Content-Type">') == "windows-1252"
    assert normalise_encoding("no-such-charset") is None


def test_server_latin1_default_does_not_override_a_real_utf8_page():
    raw = page(TEXT, '<meta charset="utf-8">').encode("utf-8")
    text, encoding = decode_html(raw, {"content-type": "text/html; charset=ISO-8859-1"})
    assert TEXT in text and encoding == "utf-8"
