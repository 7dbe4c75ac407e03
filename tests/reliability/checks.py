"""Checks an archive must pass after anything (a kill, a fault, a concurrent reader)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from archiver.archive import Archive

CLI = [sys.executable, "-c", "from archiver.cli import main; main(prog_name='archiver')"]

# (table, the columns that must be unique in it)
UNIQUE = [
    ("articles", "canonical_url"), ("authors", "name"), ("keywords", "name"),
    ("newsletters", "name"), ("crawl_queue", "url"), ("capture_bodies", "sha256"),
    ("article_authors", "article_id, position"), ("article_keywords", "article_id, position"),
    ("issue_articles", "issue_id, position"),
]
# (what, SQL counting rows that point at nothing)
ORPHANS = [
    ("articles without their capture",
     "SELECT count(*) FROM articles WHERE capture_id IS NOT NULL AND capture_id NOT IN (SELECT id FROM captures)"),
    ("captures without their body",
     "SELECT count(*) FROM captures WHERE sha256 NOT IN (SELECT sha256 FROM capture_bodies)"),
    ("author links without an article",
     "SELECT count(*) FROM article_authors WHERE article_id NOT IN (SELECT id FROM articles)"),
    ("keyword links without an article",
     "SELECT count(*) FROM article_keywords WHERE article_id NOT IN (SELECT id FROM articles)"),
    ("versions without an article",
     "SELECT count(*) FROM article_versions WHERE article_id NOT IN (SELECT id FROM articles)"),
    ("contents without an issue",
     "SELECT count(*) FROM issue_articles WHERE issue_id NOT IN (SELECT id FROM issues)"),
    ("index rows without an article",
     "SELECT count(*) FROM articles_fts WHERE rowid NOT IN (SELECT id FROM articles)"),
    ("articles missing from the index",
     "SELECT count(*) FROM articles WHERE id NOT IN (SELECT rowid FROM articles_fts)"),
]


# (what, SQL counting pages whose writes are not whole) — a page's capture, its queue row and its
# article (or the reason it has none) are written in one transaction, so none may lack another.
PAGE_WRITES = [
    ("captures without their queue row",
     "SELECT count(*) FROM captures WHERE url NOT LIKE '%/robots.txt' "
     "AND url NOT IN (SELECT url FROM crawl_queue)"),
    ("queue rows done without their capture",
     "SELECT count(*) FROM crawl_queue WHERE state = 'done' AND last_status BETWEEN 200 AND 299 "
     "AND url NOT IN (SELECT url FROM captures)"),
    ("article rows done without their article",
     "SELECT count(*) FROM crawl_queue AS q WHERE q.kind = 'article' AND q.state = 'done' "
     "AND q.last_status BETWEEN 200 AND 299 AND NOT EXISTS (SELECT 1 FROM articles AS a "
     "LEFT JOIN captures AS c ON c.id = a.capture_id "
     "WHERE c.url = q.url OR a.canonical_url = q.canonical_url)"),  # two URLs, one article
    ("captures of this run's unfinished pages",
     "SELECT count(*) FROM crawl_queue AS q JOIN captures AS c ON c.url = q.url "
     "WHERE q.state = 'pending' AND q.run_id IS NULL"),
]


def tables(conn) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def check_archive(db: Path) -> dict:
    """integrity_check ok, foreign keys hold, no duplicate and no orphan rows, every crawled page
    written whole (capture, queue row, article); returns counts."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        present = tables(conn)
        duplicates = 0
        for table, columns in UNIQUE:
            if table in present:
                duplicates += conn.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {table} GROUP BY {columns} HAVING count(*) > 1)"
                ).fetchone()[0]
        orphans = {what: conn.execute(sql).fetchone()[0] for what, sql in ORPHANS}
        if "crawl_queue" in present:
            orphans |= {what: conn.execute(sql).fetchone()[0] for what, sql in PAGE_WRITES}
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert duplicates == 0
    assert orphans == dict.fromkeys(orphans, 0), orphans
    return {"articles": articles, "duplicates": duplicates, "orphans": sum(orphans.values())}


def records(db: Path, replace: tuple[str, str] | None = None) -> dict[str, dict]:
    with Archive(db) as archive:
        found = {a.canonical_url: a.to_dict() for a in archive.iter_articles()}
    if replace:
        import json

        found = json.loads(json.dumps(found).replace(*replace))
    return found


def run_cli(*args, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONFAULTHANDLER": "0"}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env, **kwargs)
