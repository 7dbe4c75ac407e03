"""Getting things out of the archive: export (JSON Lines / CSV) and summary statistics."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from sqlite_utils import Database

from archiver.archive.core import read_record
from archiver.errors import ArchiverError

EXPORT_FORMATS = ("jsonl", "csv")


def export(db: Database, format: str, output: TextIO) -> int:
    """Write every article to `output`; returns how many.

    jsonl: one record per line exactly as `archiver parse` prints it, so `archiver load`
    reads it back into the same archive content. csv: the `articles_flat` view, one row per
    article, for spreadsheets.
    """
    if format not in EXPORT_FORMATS:
        raise ArchiverError(f"unknown export format {format!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    if format == "jsonl":
        ids = [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id").fetchall()]
        for article_id in ids:
            output.write(json.dumps(read_record(db, article_id), ensure_ascii=False) + "\n")
        return len(ids)
    cursor = db.execute("SELECT * FROM articles_flat ORDER BY id")
    writer = csv.writer(output)
    writer.writerow([d[0] for d in cursor.description])
    count = 0
    for row in cursor:
        writer.writerow(row)
        count += 1
    return count


def stats(db: Database) -> dict:
    """Counts and ranges an archivist checks after a crawl."""

    def one(sql: str):
        return db.execute(sql).fetchone()

    counts = {table: one(f"SELECT count(*) FROM {table}")[0] for table in (
        "articles", "authors", "keywords", "newsletters", "issues", "captures",
        "capture_bodies", "article_versions")}
    first_published, last_published = one("SELECT min(published), max(published) FROM articles")
    first_fetch, last_fetch = one("SELECT min(fetched_at), max(fetched_at) FROM captures")
    raw_bytes, stored_bytes = one("SELECT coalesce(sum(size), 0), coalesce(sum(length(body)), 0) "
                                  "FROM capture_bodies")
    per_newsletter = {
        name or "(none)": n for name, n in db.execute(
            "SELECT newsletters.name, count(*) FROM articles LEFT JOIN newsletters "
            "ON newsletters.id = articles.newsletter_id GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()}
    parser_versions = dict(db.execute(
        "SELECT parser_version, count(*) FROM articles GROUP BY 1 ORDER BY 1").fetchall())
    return {
        "schema_version": one("PRAGMA user_version")[0],
        "counts": counts,
        "paywalled_articles": one("SELECT count(*) FROM articles WHERE paywalled")[0],
        "published": {"first": first_published, "last": last_published},
        "fetched": {"first": first_fetch, "last": last_fetch},
        "capture_bytes": {"raw": raw_bytes, "stored": stored_bytes},
        "articles_per_newsletter": per_newsletter,
        "parser_versions": parser_versions,
    }
