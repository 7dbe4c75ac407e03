"""The archive's schema: a public interface analysts write SQL against, so it only ever grows.

Each schema version is one migration function, applied in order inside one transaction; the
version reached is kept in ``PRAGMA user_version``. Tables are created through sqlite-utils;
the FTS index is made with ``enable_fts`` (``content="articles"``) so that sqlite-utils'
``table.search()`` and Datasette's search box both detect it.
"""

from __future__ import annotations

import textwrap

from sqlite_utils import Database

# Tables this package owns (the crawler's `crawl_queue` may share the file).
OWN_TABLES = (
    "newsletters", "issues", "issue_articles", "authors", "article_authors", "keywords",
    "article_keywords", "articles", "article_versions", "captures", "capture_bodies",
)

# Columns in the full-text index, in order; the ranking weights follow the same order.
FTS_COLUMNS = ("title", "body", "disclosure", "citation_text", "authors_text", "keywords_text")
FTS_WEIGHTS = (10.0, 1.0, 0.5, 2.0, 5.0, 5.0)
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

# What each table is for: shown in docs/analysts.md and datasette-metadata.json (tested to agree).
TABLE_DESCRIPTIONS = {
    "articles": "One row per article, keyed by its canonical URL: the current values of every "
                "field, the cited study as citation_* columns, and when it was first and last seen.",
    "authors": "Each distinct author name, with the credentials most recently printed after it.",
    "article_authors": "Who wrote each article, in byline order (position 0 first), with the "
                       "credentials as printed on that article.",
    "keywords": "Each distinct keyword (topic tag) used by the site.",
    "article_keywords": "The keywords of each article, in page order.",
    "newsletters": "The newsletters (The Carlat Psychiatry Report and its sister reports).",
    "issues": "Newsletter issues: date, title and URL of the issue page.",
    "issue_articles": "Each issue's table of contents, in order; article_id is set once the "
                      "listed article is in the archive.",
    "article_versions": "Previous values of articles that changed on a re-crawl or re-parse: "
                        "the whole earlier record as JSON, which fields changed, and when.",
    "captures": "Every page fetched, kept raw: URL, time, HTTP status, selected headers and the "
                "SHA-256 of the body, so the archive can be re-parsed without the network.",
    "capture_bodies": "The raw response bodies, zlib-compressed, stored once per distinct SHA-256.",
    "articles_fts": "The full-text index over title, body, disclosure, citation, authors and keywords.",
    "articles_flat": "One row per article with newsletter, issue, authors and keywords as "
                     "readable text: for spreadsheets and quick SQL.",
}


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

    create_fts(db)
    db.create_view("articles_flat", ARTICLES_FLAT_SQL)


def create_fts(db: Database) -> None:
    """FTS5 index kept in sync by triggers, ranked by weighted bm25 (title and names count most).

    sqlite-utils' update trigger fires on *every* UPDATE, re-indexing the whole body when a
    re-crawl only bumps `last_seen`; it is replaced by one limited to the indexed columns (same
    trigger name, so sqlite-utils' `disable_fts`/`enable_fts(replace=True)` still manage it).
    """
    db["articles"].enable_fts(list(FTS_COLUMNS), tokenize=FTS_TOKENIZE, create_triggers=True)
    columns = ", ".join(f'"{c}"' for c in FTS_COLUMNS)
    old = ", ".join(f'old."{c}"' for c in FTS_COLUMNS)
    new = ", ".join(f'new."{c}"' for c in FTS_COLUMNS)
    db.execute('DROP TRIGGER "articles_au"')
    db.execute(textwrap.dedent(f"""
        CREATE TRIGGER "articles_au" AFTER UPDATE OF {columns} ON "articles" BEGIN
          INSERT INTO "articles_fts" ("articles_fts", rowid, {columns}) VALUES('delete', old.rowid, {old});
          INSERT INTO "articles_fts" (rowid, {columns}) VALUES (new.rowid, {new});
        END"""))
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('rank', ?)",
               [f"bm25({weights})"])


ARTICLES_FLAT_SQL = textwrap.dedent("""\
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

# version reached -> the function that upgrades the previous version to it
MIGRATIONS = {1: create_v1}
SCHEMA_VERSION = max(MIGRATIONS)


ARTICLE_COLUMN_DESCRIPTIONS = {
    "canonical_url": "The article's canonical URL (unique).",
    "site_article_id": "The site's own article number.",
    "published": "Publication date, YYYY-MM-DD.",
    "study_type": "The 'Type of study:' line of research reviews, as printed.",
    "citation_text": "The full reference of the study the article reviews.",
    "authors_text": "Author names in byline order, joined with '; '.",
    "keywords_text": "Keywords, joined with '; '.",
    "paywalled": "1 when only a teaser was visible: the body is incomplete.",
    "content_sha256": "Hash of the content; a re-crawl compares it to decide 'changed'.",
    "first_seen": "When the article was first fetched (UTC).",
    "last_seen": "When the article was last fetched (UTC).",
    "capture_id": "The fetched page the current values were parsed from.",
}


def datasette_metadata() -> dict:
    """Contents of datasette-metadata.json (tests keep the file equal to this)."""
    from html import escape

    tables = {name: {"title": name.replace("_", " ").capitalize(),
                     "description": escape(text, quote=False)}
              for name, text in TABLE_DESCRIPTIONS.items()}
    # Newest first. (Datasette's table search filters without ranking, so this order holds
    # for search results too; ranked search is `archiver search` or the SQL in the docs.)
    tables["articles"].update(
        sort_desc="published", facets=["newsletter_id", "study_type", "citation_journal"],
        columns={k: escape(v, quote=False) for k, v in ARTICLE_COLUMN_DESCRIPTIONS.items()})
    # A view has no FTS index of its own; point Datasette's search box at the articles index.
    tables["articles_flat"].update(fts_table="articles_fts", fts_pk="id", sort_desc="published")
    tables["capture_bodies"]["hidden"] = True  # compressed bytes: nothing to browse
    return {
        "title": "Carlat newsletter archive",
        "description": escape("Articles of the Carlat Publishing newsletters, archived by "
                              "`archiver`. See docs/analysts.md for the schema and example queries.",
                              quote=False),
        "databases": {"archive": {"tables": tables}},
    }
