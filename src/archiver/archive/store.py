"""Writing articles: one row per article, its links, its history, and the full-text index.

A `Writer` lives inside one transaction (it caches ids that a rollback would invalidate).
In bulk mode it also takes over the FTS insert/update triggers for that transaction: FTS5
flushes its pending index data at every statement savepoint, and an INSERT that fires a trigger
opens one, so indexing row by row through the trigger costs about 2.5 times a bulk index. The
writer drops the two triggers inside the transaction, indexes all new and changed rows with
one INSERT .. SELECT at the end, and recreates the triggers before the transaction commits. A
rollback restores them as well, so no other connection ever sees the archive without them.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from datetime import datetime, timezone
from itertools import islice

from sqlite_utils import Database

from archiver.archive.links import Sites, entry_article_id, link_contents, link_new_articles
from archiver.archive.read import RecordReader
from archiver.archive.schema import CITATION_FIELDS, FTS_COLUMNS
from archiver.errors import ArchiverError
from archiver.record import Article, Issue

VOLATILE_FIELDS = ("url", "parser_version", "warnings")
URN_PREFIX = "urn:sha256:"  # the key of a record without any URL: the hash of its content
ISSUE_FIELDS = ("date", "title", "url", "volume", "number")
RECORD_FIELDS = ("url", "canonical_url", "article_id", "title", "authors", "published", "issue",
                 "newsletter", "category", "article_type", "disclosure", "citation", "study_type", "body",
                 "keywords", "paywalled", "word_count", "parser_version", "warnings")
# The hand-written conversion below is 5x faster than dataclasses.asdict; it is only used
# while Article has exactly the fields it knows.
FAST_RECORD = tuple(f.name for f in dataclass_fields(Article) if f.name != "provenance") == RECORD_FIELDS
HASHED_FIELDS = tuple(f for f in RECORD_FIELDS if f not in VOLATILE_FIELDS and f != "body")
ISSUE_POSITION = HASHED_FIELDS.index("issue")
FTS_TRIGGERS = ("articles_ai", "articles_au")
ARTICLE_COLUMNS = (
    "canonical_url", "url", "site_article_id", "title", "published", "newsletter_id", "issue_id",
    "category", "study_type", "disclosure", "body", "word_count", "paywalled", "authors_text",
    "keywords_text", "warnings", "parser_version", "content_sha256", "updated_at", "capture_id",
    *(f"citation_{name}" for name in CITATION_FIELDS), "article_type", "affiliations_text")
INSERT_ARTICLE = (f"INSERT INTO articles (id, {', '.join(ARTICLE_COLUMNS)}, first_seen, last_seen) "
                  f"VALUES ({', '.join('?' * (len(ARTICLE_COLUMNS) + 3))})")
FLUSH_EVERY = 500  # new articles buffered before one executemany
DEFAULT_FTS_HASHSIZE = 1024 * 1024  # FTS5's own default
BULK_FTS_HASHSIZE = 8 * 1024 * 1024


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def article_key(article: Article) -> str:
    """The key an article is archived under: its canonical URL, else the URL it was fetched
    from, else (a saved page without a canonical link) ``urn:sha256:<hash of its content>``,
    so loading the same record twice finds the same row."""
    return normalised(article)["canonical_url"]


def normalised(article: Article) -> dict:
    """The record as stored (its JSON form), canonical_url filled in with its key so stored and
    re-exported records agree."""
    record = as_record(article)
    if not record["canonical_url"]:
        record["canonical_url"] = record["url"] or URN_PREFIX + content_sha256(record)
    return record


def as_record(article: Article) -> dict:
    """`article.to_dict()`, five times faster."""
    if not FAST_RECORD:
        return article.to_dict()
    issue, citation = article.issue, article.citation
    return {
        "url": article.url, "canonical_url": article.canonical_url, "article_id": article.article_id,
        "title": article.title,
        "authors": [{"name": a.name, "credentials": list(a.credentials), "affiliation": a.affiliation}
                    for a in article.authors],
        "published": article.published,
        "issue": None if issue is None else {
            "date": issue.date, "title": issue.title, "url": issue.url,
            "volume": issue.volume, "number": issue.number,
            "articles": [{"title": e.title, "url": e.url} for e in issue.articles]},
        "newsletter": article.newsletter, "category": article.category,
        "article_type": article.article_type, "disclosure": article.disclosure,
        "citation": None if citation is None else {f: getattr(citation, f) for f in CITATION_FIELDS},
        "study_type": article.study_type, "body": article.body, "keywords": list(article.keywords),
        "paywalled": article.paywalled, "word_count": article.word_count,
        "parser_version": article.parser_version, "warnings": list(article.warnings),
    }


def contents_rank(entries: list[dict]) -> tuple:
    """How complete a table of contents is: more entries, then more of them with a link; the
    text itself breaks ties. Every article of an issue shows the same contents on the site, but
    an article's copy can be partial (a page saved mid-edit, an issue that grew after a page was
    fetched): keeping the most complete one is the same whatever order a crawl, a resumed
    crawl, a reparse or a load stores them in. "Last stored wins" was not."""
    return (len(entries), sum(1 for e in entries if e["url"]),
            json.dumps(entries, ensure_ascii=False, sort_keys=True))


def without_contents(issue: dict | None) -> dict | None:
    return issue and {k: v for k, v in issue.items() if k != "articles"}


def content_sha256(record: dict) -> str:
    """Hash of what the article says: the JSON array of the HASHED_FIELDS values, then the
    body's UTF-8 (escaping a long body as JSON would cost more than all the rest). Provenance
    (VOLATILE_FIELDS) is left out, and so is the issue's table of contents, which belongs to
    the issue (one copy shared by all its articles, refreshed whenever one is stored): a new
    article in an issue does not make its siblings "changed"."""
    values = [record.get(name) for name in HASHED_FIELDS]
    values[ISSUE_POSITION] = without_contents(values[ISSUE_POSITION])
    digest = hashlib.sha256(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    digest.update(b"\0" + (record.get("body") or "").encode("utf-8"))
    return digest.hexdigest()


def changed_fields(old: dict, new: dict) -> list[str]:
    """Top-level fields whose content differs (as content_sha256 sees them). `old` is the stored
    record as read back, whose issue is the shared issue row: what only the issue page (or a
    sibling article) told that row is no change of this article."""
    def differs(key: str) -> bool:
        if key != "issue":
            return old.get(key) != new.get(key)
        before, after = without_contents(old.get(key)), without_contents(new.get(key))
        if before is None or after is None:
            return before != after
        return any(value is not None and before.get(name) != value for name, value in after.items())

    return [k for k in new if k not in VOLATILE_FIELDS and differs(k)]


@contextlib.contextmanager
def gc_paused():
    """Storing creates no reference cycles, but its many small dicts trigger full collections
    that walk every object the caller holds (a list of 10k Articles): a third of a bulk load."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def bigger_fts_buffer(db: Database, size: int = BULK_FTS_HASHSIZE):
    """FTS5 writes its pending terms out as a new segment whenever they pass `hashsize` (1 MB
    by default), and merges segments as they pile up. Indexing a batch with an 8 MB buffer
    writes fewer, larger segments: about a fifth less time. Restored afterwards, so other
    writers keep the default (the setting lives in articles_fts_config, in this transaction)."""
    row = db.execute("SELECT v FROM articles_fts_config WHERE k = 'hashsize'").fetchone()
    previous = row[0] if row else DEFAULT_FTS_HASHSIZE
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', ?)", [size])
    try:
        yield
    finally:
        db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', ?)", [previous])


class Writer:
    """Stores articles and issues inside the caller's open transaction; call `finish()` before
    it ends."""

    def __init__(self, db: Database, now: str, bulk: bool = False):
        self.db = db
        self.now = now
        self.ids: dict[tuple, object] = {}  # cache of (table, natural key) -> id, this transaction only
        self.contents: dict[int, list] = {}  # issue id -> table of contents as last written
        self.touched: set[int] = set()  # issues whose contents were written in this transaction
        self.json_texts: dict[tuple, str] = {}
        self.first_new_id = (db.execute("SELECT max(id) FROM articles").fetchone()[0] or 0) + 1
        self.next_id = self.first_new_id
        self.pending_articles: list[tuple] = []
        self.pending_keys: set[str] = set()
        self.pending_authors: list[tuple] = []
        self.pending_keywords: list[tuple] = []
        self.known: dict[str, tuple | None] = {}  # prefetched rows of the chunk being stored
        self.reindex: set[int] = set()  # older rows changed while the triggers are away
        self.sites = Sites(db)
        self._reader: RecordReader | None = None
        self.suspended: list[str] = self._suspend_fts_triggers() if bulk else []

    # -- the FTS triggers in bulk mode -------------------------------------------------------

    def _suspend_fts_triggers(self) -> list[str]:
        sqls = []
        for name in FTS_TRIGGERS:
            row = self.db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                  [name]).fetchone()
            if row:
                sqls.append(row[0])
                self.db.execute(f'DROP TRIGGER "{name}"')
        return sqls

    def flush(self) -> None:
        """Write the buffered new articles and links (one executemany per table)."""
        if self.pending_articles:
            self.db.conn.executemany(INSERT_ARTICLE, self.pending_articles)
            self.pending_articles.clear()
            self.pending_keys.clear()
        if self.pending_authors:
            self.db.conn.executemany(
                "INSERT INTO article_authors (article_id, position, author_id, credentials, affiliation) "
                "VALUES (?, ?, ?, ?, ?)", self.pending_authors)
            self.pending_authors.clear()
        if self.pending_keywords:
            self.db.conn.executemany(
                "INSERT INTO article_keywords (article_id, position, keyword_id) VALUES (?, ?, ?)",
                self.pending_keywords)
            self.pending_keywords.clear()

    def finish(self) -> None:
        self.flush()
        columns = ", ".join(FTS_COLUMNS)
        if self.suspended:
            # Two statements: an OR of the two conditions costs a third more than both.
            index = f"INSERT INTO articles_fts (rowid, {columns}) SELECT id, {columns} FROM articles "
            with bigger_fts_buffer(self.db):
                self.db.execute(index + "WHERE id >= ?", [self.first_new_id])
                if self.reindex:
                    self.db.execute(index + "WHERE id IN (SELECT value FROM json_each(?))",
                                    [json.dumps(sorted(self.reindex))])
            for sql in self.suspended:
                self.db.execute(sql)
            self.suspended = []
        # Contents written now may list articles archived before; issues that listed the new
        # articles before they were archived now point at them.
        if self.touched:
            link_contents(self.db, self.touched, self.sites)
            self.touched.clear()
        if self.next_id > self.first_new_id:
            link_new_articles(self.db, self.first_new_id, self.sites)

    def _unindex(self, article_id: int) -> None:
        """With the update trigger away: drop an indexed row's old terms before it changes."""
        if article_id >= self.first_new_id or article_id in self.reindex:
            return  # not indexed yet; finish() indexes its final values
        columns = ", ".join(FTS_COLUMNS)
        self.db.execute(
            f"INSERT INTO articles_fts (articles_fts, rowid, {columns}) "
            f"SELECT 'delete', id, {columns} FROM articles WHERE id = ?", [article_id])
        self.reindex.add(article_id)

    # -- storing articles --------------------------------------------------------------------

    def store_many(self, articles: Iterable[Article], seen_at: str | None = None) -> Counter:
        """Store an iterable of articles, looking up which exist a chunk at a time."""
        outcomes: Counter = Counter()
        iterator = iter(articles)
        with gc_paused():
            while chunk := list(islice(iterator, FLUSH_EVERY)):
                self._store_chunk(chunk, seen_at, outcomes)
        return outcomes

    def _store_chunk(self, chunk: list[Article], seen_at: str | None, outcomes: Counter) -> None:
        records = [normalised(article) for article in chunk]
        keys = [r["canonical_url"] for r in records]
        self.known = dict.fromkeys(keys)  # None: not archived yet
        self.known.update(self._existing(keys))
        for record in records:
            outcomes[self._store(record, None, seen_at, "recrawl")[0]] += 1
        self.known.clear()

    def _existing(self, keys: list[str]) -> dict[str, tuple]:
        rows = self.db.execute(
            "SELECT canonical_url, id, content_sha256, issue_id FROM articles "
            "WHERE canonical_url IN (SELECT value FROM json_each(?))", [json.dumps(keys)])
        return {key: tuple(rest) for key, *rest in rows}

    def store(self, article: Article, capture_id: int | None = None, seen_at: str | None = None,
              reason: str = "recrawl") -> tuple[str, list[str]]:
        """Returns ("new" | "changed" | "unchanged", the fields that changed, for "changed")."""
        return self._store(normalised(article), capture_id, seen_at, reason)

    def _store(self, record: dict, capture_id: int | None, seen_at: str | None,
               reason: str) -> tuple[str, list[str]]:
        digest = content_sha256(record)
        seen_at = seen_at or self.now
        key = record["canonical_url"]
        if key in self.pending_keys:  # the same article twice in a batch: write the first one
            self.flush()
        if key in self.known:  # prefetched; good for one use, as storing may change the row
            row = self.known.pop(key)
        else:
            row = self.db.execute(
                "SELECT id, content_sha256, issue_id FROM articles WHERE canonical_url = ?",
                [key]).fetchone()
        if row is None:
            # Buffered, with the id SQLite would give it (the transaction excludes other writers).
            article_id = self.next_id
            self.next_id += 1
            self.pending_articles.append(
                (article_id, *self._article_row(record, digest, capture_id), seen_at, seen_at))
            self.pending_keys.add(key)
            self._write_links(article_id, record)
            if len(self.pending_articles) >= FLUSH_EVERY:
                self.flush()
            return "new", []
        article_id, old_digest, issue_id = row
        if old_digest == digest:
            self.db.execute("UPDATE articles SET last_seen = max(coalesce(last_seen, ''), ?) "
                            "WHERE id = ?", [seen_at, article_id])
            if issue_id is not None and record["issue"]["articles"]:
                self._write_contents(issue_id, record["issue"]["articles"])
            return "unchanged", []
        return "changed", self._replace(article_id, old_digest, record, digest, capture_id,
                                        seen_at, reason)

    def _replace(self, article_id, old_digest, record, digest, capture_id, seen_at, reason):
        self.flush()  # its links may still be buffered from earlier in this batch
        first_seen, last_seen, old_capture = self.db.execute(
            "SELECT first_seen, last_seen, capture_id FROM articles WHERE id = ?",
            [article_id]).fetchone()
        if self._reader is None:
            self._reader = RecordReader(self.db)
        old_record = self._reader.record(article_id)
        fields = changed_fields(old_record, record)
        self._insert("article_versions", {
            "article_id": article_id, "content_sha256": old_digest,
            "record": json.dumps(old_record, ensure_ascii=False),
            "changed_fields": json.dumps(fields), "first_seen": first_seen, "last_seen": last_seen,
            "replaced_at": self.now, "reason": reason, "capture_id": old_capture,
        })
        if self.suspended:
            self._unindex(article_id)
        values = dict(zip(ARTICLE_COLUMNS, self._article_row(record, digest, capture_id)))
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        self.db.execute(
            f"UPDATE articles SET {assignments}, last_seen = max(coalesce(last_seen, ''), :seen_at) "
            "WHERE id = :article_id", {**values, "seen_at": seen_at, "article_id": article_id})
        self.db.execute("DELETE FROM article_authors WHERE article_id = ?", [article_id])
        self.db.execute("DELETE FROM article_keywords WHERE article_id = ?", [article_id])
        self._write_links(article_id, record)
        return fields

    def _insert(self, table: str, values: dict) -> int:
        columns = ", ".join(values)
        placeholders = ", ".join(f":{column}" for column in values)
        return self.db.execute(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                               values).lastrowid

    def _article_row(self, record: dict, digest: str, capture_id: int | None) -> tuple:
        """The articles row's values, in ARTICLE_COLUMNS order."""
        citation = record["citation"] or {}
        newsletter_id = self._newsletter_id(record["newsletter"])
        authors = record["authors"]
        affiliations = dict.fromkeys(a["affiliation"] for a in authors if a["affiliation"])
        return (
            record["canonical_url"], record["url"], record["article_id"], record["title"],
            record["published"], newsletter_id, self._issue_id(record["issue"], newsletter_id),
            record["category"], record["study_type"], record["disclosure"], record["body"],
            record["word_count"], int(bool(record["paywalled"])),
            "; ".join(a["name"] for a in authors) or None,
            "; ".join(record["keywords"]) or None,
            self._json(record["warnings"]), record["parser_version"], digest, self.now, capture_id,
            *(citation.get(name) for name in CITATION_FIELDS),
            record["article_type"], "; ".join(affiliations) or None)

    def _json(self, values: list) -> str:
        """JSON text of a short list of strings (credentials, warnings), memoised."""
        key = tuple(values)
        text = self.json_texts.get(key)
        if text is None:
            text = self.json_texts[key] = json.dumps(values, ensure_ascii=False)
        return text

    def _newsletter_id(self, name: str | None) -> int | None:
        if not name:
            return None
        key = ("newsletters", name)
        if key not in self.ids:
            self.ids[key] = self.db.execute(
                "INSERT INTO newsletters (name) VALUES (?) "
                "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                [name]).fetchone()[0]
        return self.ids[key]

    # -- issues ------------------------------------------------------------------------------

    def store_issue(self, issue: Issue, newsletter: str | None, capture_id: int | None) -> int:
        """An issue page's own record: the values it has replace what was known of the issue;
        its contents are kept if they are the most complete seen."""
        values = {name: getattr(issue, name) for name in ISSUE_FIELDS}
        if not values["url"] and not values["date"]:
            raise ArchiverError(f"issue {issue.title!r} has neither url nor date: nothing to "
                                "identify it by")
        newsletter_id = self._newsletter_id(newsletter)
        issue_id = self._find_issue(values, newsletter_id)
        if issue_id is None:
            issue_id = self._insert("issues", {"newsletter_id": newsletter_id, **values,
                                               "capture_id": capture_id})
        else:
            self.db.execute(
                "UPDATE issues SET newsletter_id = coalesce(:newsletter_id, newsletter_id), "
                + ", ".join(f"{name} = coalesce(:{name}, {name})" for name in ISSUE_FIELDS)
                + ", capture_id = coalesce(:capture_id, capture_id) WHERE id = :id",
                {"newsletter_id": newsletter_id, **values, "capture_id": capture_id, "id": issue_id})
        self.ids = {k: v for k, v in self.ids.items() if k[0] != "issues"}  # keys may have moved
        entries = [{"title": e.title, "url": e.url} for e in issue.articles]
        if entries:
            self._write_contents(issue_id, entries)
        return issue_id

    def _issue_id(self, issue: dict | None, newsletter_id: int | None) -> int | None:
        """The issue an article names: found as in `_find_issue` (and updated with what the
        article says of it), or created."""
        if not issue:
            return None
        values = {name: issue[name] for name in ISSUE_FIELDS}
        key = ("issues", newsletter_id, *values.values())
        if key not in self.ids:
            issue_id = self._find_issue(values, newsletter_id)
            if issue_id is None:
                issue_id = self._insert("issues", {"newsletter_id": newsletter_id, **values})
            else:
                self._fill_issue(issue_id, issue, newsletter_id)
            self.ids[key] = issue_id
        issue_id = self.ids[key]
        if issue["articles"]:
            self._write_contents(issue_id, issue["articles"])
        return issue_id

    def _find_issue(self, values: dict, newsletter_id: int | None) -> int | None:
        """By URL; else by newsletter and date (an issue row of that date without a URL, when
        the record has one); else, with neither URL nor date, by newsletter and title."""
        url, date = values["url"], values["date"]
        if url:
            row = self.db.execute(
                "SELECT id, 0 FROM issues WHERE url = :url UNION ALL "
                "SELECT id, 1 FROM issues WHERE newsletter_id IS :newsletter AND date = :date "
                "AND +url IS NULL ORDER BY 2, 1 LIMIT 1",  # (+: by the date index)
                {"url": url, "date": date, "newsletter": newsletter_id}).fetchone()
        elif date:
            row = self.db.execute(
                "SELECT id FROM issues WHERE newsletter_id IS ? AND date = ? "
                "ORDER BY url IS NULL, id LIMIT 1", [newsletter_id, date]).fetchone()
        else:
            row = self.db.execute(
                "SELECT id FROM issues WHERE newsletter_id IS ? AND date IS NULL AND url IS NULL "
                "AND title IS ? ORDER BY id LIMIT 1", [newsletter_id, values["title"]]).fetchone()
        return row[0] if row else None

    def _fill_issue(self, issue_id: int, issue: dict, newsletter_id: int | None) -> None:
        """What the article says of its issue replaces what was known, value by value: a page
        that lacks a value (most article pages show no issue title) keeps the one known."""
        key = ("filled", issue_id, newsletter_id, *(issue[name] for name in ISSUE_FIELDS))
        if key in self.ids:
            return
        self.ids[key] = issue_id
        self.db.execute(
            "UPDATE issues SET newsletter_id = coalesce(:newsletter_id, newsletter_id), "
            + ", ".join(f"{name} = coalesce(:{name}, {name})" for name in ISSUE_FIELDS)
            + " WHERE id = :id AND (" + " OR ".join(
                f"(:{name} IS NOT NULL AND {name} IS NOT :{name})" for name in (*ISSUE_FIELDS, "newsletter_id"))
            + ") AND (:url IS NULL OR NOT EXISTS (SELECT 1 FROM issues WHERE url = :url AND id != :id))",
            {"newsletter_id": newsletter_id, **{name: issue[name] for name in ISSUE_FIELDS},
             "id": issue_id})

    def _write_contents(self, issue_id: int, entries: list[dict]) -> None:
        """Replace the issue's table of contents when this one is more complete than the stored
        one (see `contents_rank`), so the kept copy does not depend on the order pages come in."""
        if issue_id not in self.contents:
            self.contents[issue_id] = [{"title": title, "url": url} for title, url in self.db.execute(
                "SELECT title, url FROM issue_articles WHERE issue_id = ? ORDER BY position",
                [issue_id])]
        stored = self.contents[issue_id]
        if entries == stored or contents_rank(entries) <= contents_rank(stored):
            return  # (the same copy as each sibling shows is the common case: no ranking needed)
        if stored:
            self.db.execute("DELETE FROM issue_articles WHERE issue_id = ?", [issue_id])
        # Entries that name an archived article's canonical URL are linked at once; the others
        # by path or by the site's article id when the transaction finishes (links.py).
        self.db.conn.executemany(
            "INSERT INTO issue_articles (issue_id, position, title, url, site_article_id, article_id) "
            "VALUES (?, ?, ?, ?, ?, (SELECT id FROM articles WHERE canonical_url = ?4))",
            [(issue_id, position, e["title"], e["url"], entry_article_id(e["url"]))
             for position, e in enumerate(entries)])
        self.contents[issue_id] = entries
        self.touched.add(issue_id)

    # -- authors and keywords ----------------------------------------------------------------

    def _write_links(self, article_id: int, record: dict) -> None:
        """Buffered until flush(); article_authors/article_keywords rows only reference
        authors and keywords already written."""
        for position, author in enumerate(record["authors"]):
            credentials = self._json(author["credentials"])
            affiliation = author["affiliation"]
            self.pending_authors.append(
                (article_id, position, self._author_id(author["name"], credentials, affiliation),
                 credentials, affiliation))
        for position, keyword in enumerate(record["keywords"]):
            self.pending_keywords.append((article_id, position, self._keyword_id(keyword)))

    def _author_id(self, name: str, credentials: str, affiliation: str | None) -> int:
        """authors.credentials keeps the credentials most recently printed after the name, and
        authors.affiliation the most recent affiliation printed (a page without one keeps it)."""
        key = ("authors", name)
        cached = self.ids.get(key)
        if cached is None or cached[1] != credentials or (affiliation and cached[2] != affiliation):
            author_id, affiliation = self.db.execute(
                "INSERT INTO authors (name, credentials, affiliation) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET credentials = excluded.credentials, "
                "affiliation = coalesce(excluded.affiliation, affiliation) RETURNING id, affiliation",
                [name, credentials, affiliation]).fetchone()
            self.ids[key] = cached = (author_id, credentials, affiliation)
        return cached[0]

    def _keyword_id(self, name: str) -> int:
        key = ("keywords", name)
        if key not in self.ids:
            self.ids[key] = self.db.execute(
                "INSERT INTO keywords (name) VALUES (?) ON CONFLICT (name) "
                "DO UPDATE SET name = excluded.name RETURNING id", [name]).fetchone()[0]
        return self.ids[key]
