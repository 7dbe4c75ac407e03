"""Reading stored articles, issues and captures back as records, from any schema version.

A read-only command may open an archive of an older schema version (it must not upgrade it):
columns a version does not have read as NULL, so a version-1 archive gives the same records as
after its upgrade (the new fields null).
"""

from __future__ import annotations

import json
import zlib

from sqlite_utils import Database

from archiver.archive.schema import CITATION_FIELDS
from archiver.errors import ArchiverError
from archiver.record import Article, Author, Capture, Citation, Issue, IssueArticle


def columns_of(db: Database, table: str) -> list[str]:
    """The table's columns, in order."""
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()]


class RecordReader:
    """Reads records back; one per connection and schema (it looks up which columns exist)."""

    def __init__(self, db: Database):
        self.db = db
        self.affiliation = ("article_authors.affiliation"
                            if "affiliation" in columns_of(db, "article_authors") else "NULL")
        issue_columns = columns_of(db, "issues")
        self.issue_numbers = ("volume, number" if {"volume", "number"} <= set(issue_columns)
                              else "NULL, NULL")

    def record(self, article_id: int) -> dict:
        """The stored article as its JSON form (what `archiver parse` printed for it)."""
        return self.article(article_id).to_dict()

    def article(self, article_id: int) -> Article:
        db = self.db
        cursor = db.execute(
            "SELECT articles.*, newsletters.name AS newsletter_name FROM articles "
            "LEFT JOIN newsletters ON newsletters.id = articles.newsletter_id WHERE articles.id = ?",
            [article_id])
        names = [d[0] for d in cursor.description]
        found = cursor.fetchone()
        if found is None:
            raise ArchiverError(f"no article with id {article_id}")
        row = dict(zip(names, found))
        authors = [
            Author(name, json.loads(credentials or "[]"), affiliation)
            for name, credentials, affiliation in db.execute(
                f"SELECT authors.name, article_authors.credentials, {self.affiliation} "
                "FROM article_authors JOIN authors ON authors.id = article_authors.author_id "
                "WHERE article_authors.article_id = ? ORDER BY position", [article_id]).fetchall()
        ]
        keywords = [name for (name,) in db.execute(
            "SELECT keywords.name FROM article_keywords JOIN keywords ON keywords.id = keyword_id "
            "WHERE article_id = ? ORDER BY position", [article_id]).fetchall()]
        citation = None
        if row["citation_text"] is not None:
            citation = Citation(**{name: row[f"citation_{name}"] for name in CITATION_FIELDS})
        return Article(
            url=row["url"], canonical_url=row["canonical_url"], article_id=row["site_article_id"],
            title=row["title"], authors=authors, published=row["published"],
            issue=self.issue(row["issue_id"]), newsletter=row["newsletter_name"],
            category=row["category"], article_type=row.get("article_type"),
            disclosure=row["disclosure"], citation=citation, study_type=row["study_type"],
            body=row["body"], keywords=keywords, paywalled=bool(row["paywalled"]),
            word_count=row["word_count"], parser_version=row["parser_version"],
            warnings=json.loads(row["warnings"] or "[]"),
        )

    def issue(self, issue_id: int | None) -> Issue | None:
        if issue_id is None:
            return None
        date, title, url, volume, number = self.db.execute(
            f"SELECT date, title, url, {self.issue_numbers} FROM issues WHERE id = ?",
            [issue_id]).fetchone()
        entries = [IssueArticle(t, u) for t, u in self.db.execute(
            "SELECT title, url FROM issue_articles WHERE issue_id = ? ORDER BY position",
            [issue_id]).fetchall()]
        return Issue(date=date, title=title, url=url, volume=volume, number=number, articles=entries)


def read_capture(db: Database, capture_id: int) -> Capture:
    row = db.execute(
        "SELECT captures.url, captures.status, captures.headers, captures.fetched_at, "
        "capture_bodies.compression, capture_bodies.body FROM captures "
        "JOIN capture_bodies ON capture_bodies.sha256 = captures.sha256 WHERE captures.id = ?",
        [capture_id]).fetchone()
    if row is None:
        raise ArchiverError(f"no capture with id {capture_id}")
    url, status, headers, fetched_at, compression, body = row
    if compression == "zlib":
        body = zlib.decompress(body)
    return Capture(url=url, status=status, headers=json.loads(headers or "{}"), body=body,
                   fetched_at=fetched_at)

