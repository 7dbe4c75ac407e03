"""The archive's schema: a public interface analysts write SQL against, so it only ever grows.

Each schema version is one step, applied in order inside one transaction; the version reached
is kept in ``PRAGMA user_version`` (the steps, with the data they recompute, are in
`migrations`). What a step creates is frozen here: version 1's DDL stays exactly what version 1
created, so a new archive (version 1, then 2, ...) and an upgraded one end up identical.
Tables are created through sqlite-utils; the FTS index is made with ``enable_fts``
(``content="articles"``) so that sqlite-utils' ``table.search()`` and Datasette's search box
both detect it.
"""

from __future__ import annotations

import textwrap

from sqlite_utils import Database

# Tables this package owns.
OWN_TABLES = (
    "newsletters", "issues", "issue_articles", "authors", "article_authors", "keywords",
    "article_keywords", "articles", "article_versions", "captures", "capture_bodies",
)
# Tables the crawler keeps in the same file (archiver.frontier); they may come before ours.
CRAWL_TABLES = ("crawl_queue", "crawl_runs")

CITATION_FIELDS = ("text", "authors", "journal", "year", "volume", "issue", "pages", "doi", "pmid")

# The full-text index: columns in order, and the bm25 weights in the same order.
FTS_COLUMNS_V1 = ("title", "body", "disclosure", "citation_text", "authors_text", "keywords_text")
FTS_WEIGHTS_V1 = (10.0, 1.0, 0.5, 2.0, 5.0, 5.0)
FTS_COLUMNS = (*FTS_COLUMNS_V1, "affiliations_text")
FTS_WEIGHTS = (*FTS_WEIGHTS_V1, 2.0)
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"


def url_path(column: str) -> str:
    """SQL for the path (and query) of the URL in `column`: what follows the host. Indexes on
    it let a table of contents that names one host find articles archived under another."""
    after_scheme = f"instr({column}, '://')"
    return f"substr({column}, instr(substr({column}, {after_scheme} + 3), '/') + {after_scheme} + 2)"


# -- version 1 -------------------------------------------------------------------------------

def create_v1(db: Database) -> None:
    """Version 1, the first schema."""
    db.create_table("newsletters", {"id": int, "name": str}, pk="id", not_null=["name"])
    db["newsletters"].create_index(["name"], unique=True)

    db.create_table(
        "issues", {"id": int, "newsletter_id": int, "date": str, "title": str, "url": str},
        pk="id", foreign_keys=[("newsletter_id", "newsletters", "id")],
    )
    db["issues"].create_index(["url"], unique=True)
    db["issues"].create_index(["newsletter_id", "date"])

    db.create_table("authors", {"id": int, "name": str, "credentials": str}, pk="id",
                    not_null=["name"])
    db["authors"].create_index(["name"], unique=True)
    db.create_table("keywords", {"id": int, "name": str}, pk="id", not_null=["name"])
    db["keywords"].create_index(["name"], unique=True)

    db.create_table("capture_bodies", {"sha256": str, "size": int, "compression": str,
                                       "body": bytes}, pk="sha256", not_null=["size", "body"])
    db.create_table(
        "captures",
        {"id": int, "url": str, "fetched_at": str, "status": int, "content_type": str,
         "headers": str, "sha256": str},
        pk="id", not_null=["url", "fetched_at", "status", "sha256"],
        foreign_keys=[("sha256", "capture_bodies", "sha256")],
    )
    db["captures"].create_index(["url", "fetched_at"])
    db["captures"].create_index(["sha256"])

    db.create_table(
        "articles",
        {
            "id": int, "canonical_url": str, "url": str, "site_article_id": int, "title": str,
            "published": str, "newsletter_id": int, "issue_id": int, "category": str,
            "study_type": str, "disclosure": str, "body": str, "word_count": int, "paywalled": int,
            "citation_text": str, "citation_authors": str, "citation_journal": str,
            "citation_year": int, "citation_volume": str, "citation_issue": str,
            "citation_pages": str, "citation_doi": str, "citation_pmid": str,
            "authors_text": str, "keywords_text": str, "warnings": str, "parser_version": str,
            "content_sha256": str, "first_seen": str, "last_seen": str, "updated_at": str,
            "capture_id": int,
        },
        pk="id", not_null=["canonical_url", "content_sha256"],
        foreign_keys=[("newsletter_id", "newsletters", "id"), ("issue_id", "issues", "id"),
                      ("capture_id", "captures", "id")],
    )
    articles = db["articles"]
    articles.create_index(["canonical_url"], unique=True)
    for column in ("site_article_id", "published", "newsletter_id", "issue_id", "study_type",
                   "citation_journal", "citation_year", "capture_id"):
        articles.create_index([column])

    db.create_table(
        "article_authors",
        {"article_id": int, "position": int, "author_id": int, "credentials": str},
        pk=("article_id", "position"), not_null=["author_id"],
        foreign_keys=[("article_id", "articles", "id"), ("author_id", "authors", "id")],
    )
    db["article_authors"].create_index(["author_id"])
    db.create_table(
        "article_keywords", {"article_id": int, "position": int, "keyword_id": int},
        pk=("article_id", "position"), not_null=["keyword_id"],
        foreign_keys=[("article_id", "articles", "id"), ("keyword_id", "keywords", "id")],
    )
    db["article_keywords"].create_index(["keyword_id"])
    db.create_table(
        "issue_articles",
        {"issue_id": int, "position": int, "title": str, "url": str, "article_id": int},
        pk=("issue_id", "position"),
        foreign_keys=[("issue_id", "issues", "id"), ("article_id", "articles", "id")],
    )
    db["issue_articles"].create_index(["article_id"])
    db["issue_articles"].create_index(["url"])

    db.create_table(
        "article_versions",
        {"id": int, "article_id": int, "content_sha256": str, "record": str,
         "changed_fields": str, "first_seen": str, "last_seen": str, "replaced_at": str,
         "reason": str, "capture_id": int},
        pk="id", not_null=["article_id", "record"],
        foreign_keys=[("article_id", "articles", "id"), ("capture_id", "captures", "id")],
    )
    db["article_versions"].create_index(["article_id"])

    create_fts(db, FTS_COLUMNS_V1, FTS_WEIGHTS_V1)
    db.create_view("articles_flat", ARTICLES_FLAT_V1)


def create_fts(db: Database, columns: tuple[str, ...], weights: tuple[float, ...]) -> None:
    """FTS5 index kept in sync by triggers, ranked by weighted bm25 (title and names count most).
    Creating it indexes every row already in `articles`.

    sqlite-utils' update trigger fires on *every* UPDATE, re-indexing the whole body when a
    re-crawl only bumps `last_seen`; it is replaced by one limited to the indexed columns (same
    trigger name, so sqlite-utils' `disable_fts`/`enable_fts(replace=True)` still manage it).
    """
    db["articles"].enable_fts(list(columns), tokenize=FTS_TOKENIZE, create_triggers=True)
    quoted = ", ".join(f'"{c}"' for c in columns)
    old = ", ".join(f'old."{c}"' for c in columns)
    new = ", ".join(f'new."{c}"' for c in columns)
    db.execute('DROP TRIGGER "articles_au"')
    db.execute(textwrap.dedent(f"""
        CREATE TRIGGER "articles_au" AFTER UPDATE OF {quoted} ON "articles" BEGIN
          INSERT INTO "articles_fts" ("articles_fts", rowid, {quoted}) VALUES('delete', old.rowid, {old});
          INSERT INTO "articles_fts" (rowid, {quoted}) VALUES (new.rowid, {new});
        END"""))
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('rank', ?)",
               [f"bm25({', '.join(str(w) for w in weights)})"])


ARTICLES_FLAT_V1 = textwrap.dedent("""\
    SELECT
      articles.id,
      articles.canonical_url,
      articles.site_article_id,
      articles.title,
      articles.published,
      newsletters.name AS newsletter,
      issues.date AS issue_date,
      issues.title AS issue_title,
      articles.category,
      articles.study_type,
      articles.authors_text AS authors,
      articles.keywords_text AS keywords,
      articles.citation_text,
      articles.citation_journal,
      articles.citation_year,
      articles.citation_doi,
      articles.citation_pmid,
      articles.disclosure,
      articles.word_count,
      articles.paywalled,
      articles.body,
      articles.first_seen,
      articles.last_seen,
      (SELECT count(*) FROM article_versions WHERE article_versions.article_id = articles.id)
        AS earlier_versions
    FROM articles
    LEFT JOIN newsletters ON newsletters.id = articles.newsletter_id
    LEFT JOIN issues ON issues.id = articles.issue_id""")


# -- version 2 -------------------------------------------------------------------------------

# (table, column, SQL type and constraint) added by version 2.
V2_COLUMNS = (
    ("captures", "profile", "TEXT"),
    ("articles", "article_type", "TEXT"),
    ("articles", "affiliations_text", "TEXT"),
    ("issues", "volume", "TEXT"),
    ("issues", "number", "TEXT"),
    ("issues", "capture_id", "INTEGER REFERENCES captures(id)"),
    ("article_authors", "affiliation", "TEXT"),
    ("authors", "affiliation", "TEXT"),
    ("issue_articles", "site_article_id", "INTEGER"),
)


def add_v2_columns(db: Database) -> None:
    """Version 2's columns and indexes (its data steps are in `migrations`)."""
    for table, column, kind in V2_COLUMNS:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    db["issues"].create_index(["capture_id"])
    db["issue_articles"].create_index(["site_article_id"])
    # Table-of-contents entries and archived articles are matched by URL path (see links.py).
    # (Every index costs each insert; a page's fetched URL has its canonical URL's path but for
    # a tracking query, so the canonical one is enough.)
    db.execute(f"CREATE INDEX idx_articles_canonical_path ON articles ({url_path('canonical_url')})")
    db.execute(f"CREATE INDEX idx_issue_articles_url_path ON issue_articles ({url_path('url')})")


def replace_fts(db: Database, columns: tuple[str, ...], weights: tuple[float, ...]) -> None:
    """An FTS5 table cannot gain a column: drop it and its triggers, create it anew (indexing
    every article again)."""
    db["articles"].disable_fts()
    create_fts(db, columns, weights)


def replace_view(db: Database, name: str, sql: str) -> None:
    db.execute(f"DROP VIEW IF EXISTS {name}")
    db.create_view(name, sql)


ARTICLES_FLAT_V2 = textwrap.dedent("""\
    SELECT
      articles.id,
      articles.canonical_url,
      articles.site_article_id,
      articles.title,
      articles.published,
      newsletters.name AS newsletter,
      issues.date AS issue_date,
      issues.title AS issue_title,
      issues.volume AS issue_volume,
      issues.number AS issue_number,
      articles.category,
      articles.article_type,
      articles.study_type,
      articles.authors_text AS authors,
      articles.affiliations_text AS affiliations,
      articles.keywords_text AS keywords,
      articles.citation_text,
      articles.citation_journal,
      articles.citation_year,
      articles.citation_doi,
      articles.citation_pmid,
      articles.disclosure,
      articles.word_count,
      articles.paywalled,
      articles.body,
      articles.first_seen,
      articles.last_seen,
      (SELECT count(*) FROM article_versions WHERE article_versions.article_id = articles.id)
        AS earlier_versions
    FROM articles
    LEFT JOIN newsletters ON newsletters.id = articles.newsletter_id
    LEFT JOIN issues ON issues.id = articles.issue_id""")
