"""Getting things out of the archive: export (JSON Lines / CSV) and summary statistics."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from sqlite_utils import Database

from archiver.archive.read import RecordReader, columns_of
from archiver.errors import ArchiverError

EXPORT_FORMATS = ("jsonl", "csv")
BOM = "\ufeff"


def check_format(format: str, bom: bool = False) -> None:
    if format not in EXPORT_FORMATS:
        raise ArchiverError(f"unknown export format {format!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    if bom and format != "csv":
        raise ArchiverError("--bom is for --format csv (spreadsheet programs); JSON Lines has none")


def export(db: Database, format: str, output: TextIO, bom: bool = False) -> int:
    """Write every article to `output`; returns how many.

    jsonl: one record per line exactly as `archiver parse` prints it, so `archiver load`
    reads it back into the same archive content. csv: the `articles_flat` view, one row per
    article, for spreadsheets (with `bom`, after a UTF-8 byte order mark).
    """
    check_format(format, bom)
    if format == "jsonl":
        reader = RecordReader(db)
        ids = [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id").fetchall()]
        for article_id in ids:
            output.write(json.dumps(reader.record(article_id), ensure_ascii=False) + "\n")
        return len(ids)
    cursor = db.execute("SELECT * FROM articles_flat ORDER BY id")
    if bom:
        output.write(BOM)
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
    per_profile = {}
    if "profile" in columns_of(db, "captures"):
        per_profile = {name or "(not recorded)": n for name, n in db.execute(
            "SELECT profile, count(*) FROM captures GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()}
    return {
        "schema_version": one("PRAGMA user_version")[0],
        "counts": counts,
        "paywalled_articles": one("SELECT count(*) FROM articles WHERE paywalled")[0],
        "published": {"first": first_published, "last": last_published},
        "fetched": {"first": first_fetch, "last": last_fetch},
        "capture_bytes": {"raw": raw_bytes, "stored": stored_bytes},
        "articles_per_newsletter": per_newsletter,
        "captures_per_profile": per_profile,
        "parser_versions": parser_versions,
    }


def human_size(count: int) -> str:
    """1234567 -> "1.2 MB" (decimal units, as file managers show them)."""
    if count < 1000:
        return f"{count} bytes" if count != 1 else "1 byte"
    size = float(count)
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if size < 999.95 or unit == "TB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


def span(first: str | None, last: str | None) -> str:
    return first if first == last else f"{first} .. {last}"


def format_stats(figures: dict, name: str) -> str:
    """The statistics as text, laid out like the crawl report."""
    counts = figures["counts"]
    lines = [f"archive {name}, schema version {figures['schema_version']}"]
    if counts["articles"]:
        published = figures["published"]
        dated = (f", published {span(published['first'], published['last'])}"
                 if published["first"] else ", none dated")
        lines.append(f"  articles        {counts['articles']:,} ({figures['paywalled_articles']:,} "
                     f"paywalled){dated}")
    else:
        lines.append("  articles        no articles yet")
    lines += [
        f"  newsletters     {counts['newsletters']:,}",
        f"  issues          {counts['issues']:,}",
        f"  authors         {counts['authors']:,}",
        f"  keywords        {counts['keywords']:,}",
        f"  versions        {counts['article_versions']:,} earlier versions of changed articles",
    ]
    if counts["captures"]:
        fetched, sizes = figures["fetched"], figures["capture_bytes"]
        lines.append(f"  captures        {counts['captures']:,}, fetched "
                     f"{span(fetched['first'], fetched['last'])}")
        lines.append(f"  capture bodies  {counts['capture_bodies']:,} distinct: "
                     f"{human_size(sizes['raw'])} raw, {human_size(sizes['stored'])} stored")
    else:
        lines.append("  captures        none yet (a crawl keeps every page it fetches)")
    per_profile = {k: v for k, v in figures.get("captures_per_profile", {}).items()}
    if per_profile:
        lines.append("  captures by site profile:")
        width = max(map(len, per_profile))
        lines += [f"    {profile:<{width}}  {count:>7,}" for profile, count in per_profile.items()]
    per_newsletter = figures["articles_per_newsletter"]
    if per_newsletter:
        lines.append("  articles per newsletter:")
        width = max(map(len, per_newsletter))
        lines += [f"    {newsletter:<{width}}  {count:>7,}" for newsletter, count in per_newsletter.items()]
    return "\n".join(lines)
