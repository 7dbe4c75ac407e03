"""Checking records before they are archived, so `archiver load` never crashes and never mangles.

A record (one JSON Lines line) must have the shape of `archiver.record.Article`: every field of
the type the dataclass declares, nested authors / citation / issue included; lists that are
lists of the right type (a string is not a list of keywords); integers that fit SQLite's 64
bits; strings that can be written as UTF-8 (no lone surrogates); dates (published, issue.date)
as YYYY, YYYY-MM or YYYY-MM-DD naming a day that exists; URLs that are absolute http(s) URLs;
and a title or a body. Keys the record type does not know are ignored, as `Article.from_dict`
ignores them. Each problem is one `BadRecord` line naming the field.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from urllib.parse import urlsplit

from archiver.errors import ArchiverError
from archiver.record import Article

SQLITE_INTEGERS = range(-2**63, 2**63)
ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
URN = re.compile(r"urn:sha256:[0-9a-f]{64}")
UTF8_BOM = "\ufeff"


class BadRecord(ArchiverError):
    """One record that cannot be archived as it is; the message says where and why."""


def check_date(value: str, what: str) -> str:
    """`value` if it is YYYY, YYYY-MM or YYYY-MM-DD of a date that exists; else BadRecord."""
    match = ISO_DATE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise BadRecord(f"{what} {value!r}: expected a date as YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise BadRecord(f"{what} {value!r}: no such date") from None
    return value


def kind(value) -> str:
    """How JSON would name the value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {str: "a string", int: "a number", float: "a number", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


# -- the shape, read from the dataclasses -------------------------------------------------------

@cache
def plan(cls) -> tuple[tuple[str, object, bool], ...]:
    """(field name, type hint, required) for each JSON field of a record dataclass."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, hints[f.name],
         f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls) if f.name != "provenance")


def convert(hint, value, where: str):
    """`value` (parsed JSON) as the type `hint`, or BadRecord."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(hint)):
            return None
        (hint,) = options
        origin = typing.get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            raise BadRecord(f"{where}: expected a list, not {kind(value)}")
        (item,) = typing.get_args(hint)
        return [convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise BadRecord(f"{where}: expected an object, not {kind(value)}")
        values = {}
        for name, field_hint, required in plan(hint):
            path = f"{where}.{name}" if where else name
            if name in value:
                values[name] = convert(field_hint, value[name], path)
            elif required:
                raise BadRecord(f"{path}: missing")
        return hint(**values)
    if hint is str:
        if not isinstance(value, str):
            raise BadRecord(f"{where}: expected a string, not {kind(value)}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadRecord(f"{where}: has a lone surrogate {value[exc.start]!r} (not "
                            "writable as UTF-8)") from None
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise BadRecord(f"{where}: expected true or false, not {kind(value)}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadRecord(f"{where}: expected a whole number, not {kind(value)}")
        if value not in SQLITE_INTEGERS:
            raise BadRecord(f"{where}: {value} does not fit in 64 bits")
        return value
    raise TypeError(f"no check for {hint!r} at {where}")  # a field type this module must learn


def check_url(value: str | None, where: str, key: bool = False) -> None:
    if value is None or (key and URN.fullmatch(value)):
        return
    try:
        parts = urlsplit(value)
        absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        absolute = False
    if not absolute:
        raise BadRecord(f"{where} {value[:80]!r}: expected an absolute http(s) URL")


def article_from_record(data) -> Article:
    """The Article a parsed JSON record describes, or BadRecord saying what is wrong."""
    if not isinstance(data, dict):
        raise BadRecord(f"expected a record (a JSON object), not {kind(data)}")
    article = convert(Article, data, "")
    if article.published is not None:
        check_date(article.published, "published")
    check_url(article.url, "url")
    check_url(article.canonical_url, "canonical_url", key=True)
    if article.issue is not None:
        if article.issue.date is not None:
            check_date(article.issue.date, "issue.date")
        check_url(article.issue.url, "issue.url")
        for position, entry in enumerate(article.issue.articles):
            check_url(entry.url, f"issue.articles[{position}].url")
    if article.word_count < 0:
        raise BadRecord(f"word_count: {article.word_count} is negative")
    if not article.title and not article.body:
        raise BadRecord("has neither a title nor a body: nothing to archive")
    return article


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON value")


def article_from_line(line: bytes) -> Article:
    """One JSON Lines line (bytes, as read from the file) as an Article, or BadRecord."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRecord(f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1})") from None
    try:
        data = json.loads(text.lstrip(UTF8_BOM), parse_constant=_no_constants)
    except RecursionError:
        raise BadRecord("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN, an integer of thousands of digits
        raise BadRecord(f"not valid JSON: {str(exc).splitlines()[0]}") from None
    try:
        return article_from_record(data)
    except RecursionError:
        raise BadRecord("nested too deeply") from None


class RecordLines:
    """The good records of a JSON Lines file, in order; each bad line is handed to
    `on_error(line_number, reason)` and skipped. Blank lines are skipped."""

    def __init__(self, lines: Iterable[bytes], on_error: Callable[[int, str], None]):
        self.lines = lines
        self.on_error = on_error
        self.bad = 0

    def __iter__(self) -> Iterator[Article]:
        for number, line in enumerate(self.lines, 1):
            if not line.strip():
                continue
            try:
                yield article_from_line(line)
            except BadRecord as exc:
                self.bad += 1
                self.on_error(number, str(exc))
