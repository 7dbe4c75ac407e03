"""Full-text search: bm25-ranked, filtered, with highlighted snippets.

The query ranks first and only then builds snippets: an inner query takes the top `limit`
rowids by bm25 (computed from the index alone), and the outer query computes snippets for
those few rows. Reading every matching row (or building its snippet) before sorting, as a
plain `ORDER BY rank` over a join does, costs more the more rows match (bench_archive: on
100k articles, queries matching a quarter of them take 30 ms here, 40 ms in sqlite-utils'
`table.search`, which makes no snippets).
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from archiver.archive.schema import FTS_WEIGHTS
from archiver.archive.validate import check_date
from archiver.errors import ArchiverError

QUERY_HINT = ('put phrases, and words with punctuation such as "placebo-controlled", '
              "in double quotes; operators are AND, OR, NOT and NEAR(...)")


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the user's own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_clauses(author=None, keyword=None, newsletter=None, study_type=None, since=None,
                   until=None) -> tuple[list[str], dict]:
    """SQL conditions on `articles` and their bound parameters: user text never enters the SQL."""
    clauses, params = [], {}
    if author:
        clauses.append(
            "articles.id IN (SELECT article_id FROM article_authors JOIN authors "
            "ON authors.id = article_authors.author_id WHERE authors.name LIKE :author ESCAPE '\\')")
        params["author"] = like_pattern(author)
    if keyword:
        clauses.append(
            "articles.id IN (SELECT article_id FROM article_keywords JOIN keywords "
            "ON keywords.id = article_keywords.keyword_id WHERE keywords.name = :keyword COLLATE NOCASE)")
        params["keyword"] = keyword
    if newsletter:
        clauses.append("articles.newsletter_id IN (SELECT id FROM newsletters "
                       "WHERE name LIKE :newsletter ESCAPE '\\')")
        params["newsletter"] = like_pattern(newsletter)
    if study_type:
        clauses.append("articles.study_type LIKE :study_type ESCAPE '\\'")
        params["study_type"] = like_pattern(study_type)
    for name, value in (("since", since), ("until", until)):
        if value:
            check_date(value, f"--{name}")
    if since:
        clauses.append("articles.published >= :since")
        params["since"] = since
    if until:
        # "~" sorts after every digit and "-", so --until 2019 takes in 2019-12-31.
        clauses.append("articles.published <= :until")
        params["until"] = until + "~"
    return clauses, params


def search(db: Database, query: str, *, author: str | None = None, keyword: str | None = None,
           newsletter: str | None = None, study_type: str | None = None,
           since: str | None = None, until: str | None = None, limit: int = 20,
           highlight: tuple[str, str] = ("[", "]"), snippet_tokens: int = 24,
           weights: tuple[float, ...] = FTS_WEIGHTS) -> list[dict]:
    """Articles matching the FTS5 `query`, best first, each with a highlighted snippet.
    `weights`: bm25's, one per column of the index (an older archive's has fewer)."""
    if not query or not query.strip():
        raise ArchiverError("empty search query")
    if limit < 1:
        raise ArchiverError(f"--limit must be at least 1, not {limit}")
    clauses, params = filter_clauses(author, keyword, newsletter, study_type, since, until)
    # Filters are checked on the matches, by rowid. (`rowid IN (SELECT .. filters)` would be
    # handed to FTS5, which then runs the whole MATCH once per listed rowid.)
    join, restriction = "", ""
    if clauses:
        join = "CROSS JOIN articles ON articles.id = articles_fts.rowid"
        restriction = "AND " + " AND ".join(clauses)
    # bm25 spelled out rather than FTS5's `rank` column: the same weights (configured as the
    # index's rank function too, for Datasette and sqlite-utils), but a third faster, as `rank`
    # looks the function up per row. CROSS JOIN keeps SQLite from re-running the MATCH over
    # every hit for the outer query: snippets are made by rowid lookups for the top rows only.
    score = f"bm25(articles_fts, {', '.join(str(float(w)) for w in weights)})"
    sql = f"""
        WITH best AS (
          SELECT articles_fts.rowid AS id, {score} AS score FROM articles_fts {join}
          WHERE articles_fts MATCH :query {restriction}
          ORDER BY score LIMIT :limit
        )
        SELECT articles.id, articles.canonical_url AS url, articles.title, articles.published,
               newsletters.name AS newsletter, articles.authors_text AS authors,
               articles.study_type, best.score AS rank,
               snippet(articles_fts, -1, :open, :close, '…', :tokens) AS snippet
        FROM best
        CROSS JOIN articles_fts
        CROSS JOIN articles
        LEFT JOIN newsletters ON newsletters.id = articles.newsletter_id
        WHERE articles_fts MATCH :query AND articles_fts.rowid = best.id AND articles.id = best.id
        ORDER BY best.score, articles.id
    """
    params.update(query=query, limit=limit, open=highlight[0], close=highlight[1],
                  tokens=max(1, min(snippet_tokens, 64)))
    try:
        cursor = db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if ("fts5" in message or "syntax error" in message or "unterminated" in message
                or "no such column" in message or "unknown special query" in message):
            raise ArchiverError(f"bad search query {query!r}: {message}; {QUERY_HINT}") from None
        raise
