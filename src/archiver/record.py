"""The two plain types that cross the pipeline's boundaries.

``Capture`` goes from fetch to parse (and into the ``captures`` table); ``Article`` goes from
parse to the archive. Both are plain dataclasses with a JSON form, so stages can be run
separately (``archiver parse`` prints Articles as JSON Lines, ``archiver load`` reads them back).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PARSER_VERSION = "1.1"


@dataclass
class Capture:
    """One HTTP response, kept raw: what fetch hands to parse and what the archive stores."""

    url: str  # final URL, after redirects
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    fetched_at: str  # ISO 8601, UTC, e.g. 2026-11-28T06:34:17Z

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Author:
    name: str
    credentials: list[str] = field(default_factory=list)
    affiliation: str | None = None  # the bio box's institutions and titles, when the page has one


@dataclass
class Citation:
    """The study an article reviews, parsed from its "Review of:" line."""

    text: str
    authors: str | None = None
    journal: str | None = None
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None


@dataclass
class IssueArticle:
    title: str
    url: str | None = None


@dataclass
class Issue:
    """The newsletter issue an article appeared in, from the page's Table Of Contents."""

    date: str | None = None  # ISO date
    title: str | None = None
    url: str | None = None
    volume: str | None = None  # as the page writes it: "16" of "Volume 16, Number 1" or tcprv16n1
    number: str | None = None
    articles: list[IssueArticle] = field(default_factory=list)


@dataclass
class Article:
    """One article: the record the parser returns and the archive stores."""

    url: str | None = None
    canonical_url: str | None = None
    article_id: int | None = None
    title: str | None = None
    authors: list[Author] = field(default_factory=list)
    published: str | None = None  # ISO date YYYY-MM-DD
    issue: Issue | None = None
    newsletter: str | None = None
    category: str | None = None
    article_type: str | None = None  # "Expert Q&A", "Research Update", ... as the page names it
    disclosure: str | None = None
    citation: Citation | None = None
    study_type: str | None = None
    body: str | None = None
    keywords: list[str] = field(default_factory=list)
    paywalled: bool = False
    word_count: int = 0
    parser_version: str = PARSER_VERSION
    warnings: list[str] = field(default_factory=list)
    # Which strategy answered each field ("title": "json-ld headline"). Shown by
    # `archiver parse --explain` and the crawl report; not part of the record's JSON.
    provenance: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["provenance"]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Build an Article from its JSON form; unknown keys are ignored, missing ones default."""
        known = {f.name for f in fields(cls)} - {"provenance"}
        values = {k: v for k, v in data.items() if k in known}
        values["authors"] = [Author(**a) for a in values.get("authors") or []]
        if values.get("citation"):
            values["citation"] = Citation(**values["citation"])
        if values.get("issue"):
            issue = dict(values["issue"])
            issue["articles"] = [IssueArticle(**a) for a in issue.get("articles") or []]
            values["issue"] = Issue(**issue)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Article:
        return cls.from_dict(json.loads(text))
