"""The schema versions, in order: version N is reached by MIGRATIONS[N], in one transaction.

Version 1: the first schema. Version 2: the site profile of each capture; article type,
issue volume and number, author affiliations (stored, read back, searchable); issue rows that
an issue page fills in (`Archive.store_issue`); table-of-contents entries linked across hosts.
"""

from __future__ import annotations

from sqlite_utils import Database

from archiver.archive import schema
from archiver.archive.links import entry_article_id, link_all
from archiver.archive.read import RecordReader
from archiver.archive.store import content_sha256

REHASH_BATCH = 500


def upgrade_to_v2(db: Database) -> None:
    schema.add_v2_columns(db)
    rehash(db)
    db.conn.executemany(  # entries naming an article by its id (/articles/1227) link by it
        "UPDATE issue_articles SET site_article_id = ? WHERE issue_id = ? AND position = ?",
        [(entry_article_id(url), issue_id, position) for issue_id, position, url in
         db.execute("SELECT issue_id, position, url FROM issue_articles WHERE url IS NOT NULL")])
    link_all(db)
    schema.replace_fts(db, schema.FTS_COLUMNS, schema.FTS_WEIGHTS)
    schema.replace_view(db, "articles_flat", schema.ARTICLES_FLAT_V2)


def rehash(db: Database) -> int:
    """Recompute every article's content_sha256 from its record as read back now.

    Version-1 archives were hashed by recipes that knew fewer fields (older ones had no
    article_type, affiliation, volume or number keys at all); without this, every article
    would turn "changed" on the next crawl or reparse although nothing on its page changed.
    The UPDATE touches no indexed column, so the full-text index is not rewritten."""
    reader = RecordReader(db)
    ids = [article_id for (article_id,) in db.execute("SELECT id FROM articles ORDER BY id")]
    for start in range(0, len(ids), REHASH_BATCH):
        db.conn.executemany(
            "UPDATE articles SET content_sha256 = ? WHERE id = ?",
            [(content_sha256(reader.record(article_id)), article_id)
             for article_id in ids[start:start + REHASH_BATCH]])
    return len(ids)


# version reached -> the function that upgrades the previous version to it
MIGRATIONS = {1: schema.create_v1, 2: upgrade_to_v2}
SCHEMA_VERSION = max(MIGRATIONS)
