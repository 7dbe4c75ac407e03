"""The archive against real SQLite files: opening, migrations, transactions, captures, store/load."""

import dataclasses
import json
import sqlite3
import zlib

import pytest

from archiver.archive import SCHEMA_VERSION, Archive
from archiver.errors import ArchiveLocked, ArchiverError
from archiver.record import Article, Author, Capture, Citation, Issue, IssueArticle

SITE = "https://www.thecarlatreport.com"


def make_issue(k: int) -> Issue:
    """Issue k lists articles k, k + 4 and k + 8 (as every article page of that issue shows)."""
    return Issue(date=f"201{k}-0{k + 1}-01", title=f"Issue {k}", url=f"{SITE}/newsletter-issue/tcprv{k}n1",
                 volume=str(10 + k), number="1", articles=[IssueArticle(f"Does drug {m} help sleep?", f"{SITE}/articles/{m}-study-{m}")
                           for m in (k, k + 4, k + 8)])


def make_article(n: int = 1, **changes) -> Article:
    """An invented article record; every field filled so round trips test all of them."""
    article = Article(
        url=f"{SITE}/articles/{n}-study-{n}?ref=list",
        canonical_url=f"{SITE}/articles/{n}-study-{n}",
        article_id=n,
        title=f"Does drug {n} help sleep?",
        authors=[Author(f"Ana Writer{n % 3}", ["MD"], f"Sleep Institute {n % 3}"),
                 Author("Bo Editor", ["PhD", "LCSW"])],
        published=f"20{10 + n % 10:02d}-0{1 + n % 9}-15",
        issue=make_issue(n % 4),
        newsletter=["The Carlat Psychiatry Report", "The Carlat Child Psychiatry Report"][n % 2],
        category="Research Update",
        article_type=["Research Update", "Expert Q&A"][n % 2],
        disclosure=f"Dr. Writer{n % 3} has no relevant financial interests.",
        citation=Citation(text=f"Roe A et al, J Sleep Res 2018;{n}:1-9", authors="Roe A et al",
                          journal=["J Sleep Res", "Am J Psychiatry"][n % 2], year=2015 + n % 5,
                          volume=str(n), issue="2", pages="1-9", doi=f"10.1000/sleep.{n}",
                          pmid=str(30000000 + n)),
        study_type=["Randomized, placebo-controlled trial", "Double-blind crossover study",
                    "Meta-analysis"][n % 3],
        body=f"Patients taking drug{n} slept longer. Café naïve insomnia subjects improved.",
        keywords=["Insomnia", f"Drug{n}", "Sleep"],
        paywalled=n % 5 == 0,
        word_count=9,
        warnings=["no og:title"] if n % 4 == 0 else [],
    )
    return dataclasses.replace(article, **changes)


def table_dump(archive: Archive) -> dict:
    """Every row of every archive table except the clocks, for before/after comparisons."""
    clocks = {"first_seen", "last_seen", "updated_at", "replaced_at"}
    dump = {}
    for table in ("articles", "authors", "article_authors", "keywords", "article_keywords",
                  "newsletters", "issues", "issue_articles", "article_versions"):
        rows = archive.db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        names = [d[0] for d in archive.db.execute(f"SELECT * FROM {table} LIMIT 0").description]
        dump[table] = [{k: v for k, v in zip(names, row) if k not in clocks} for row in rows]
    return dump


def content_dump(archive: Archive) -> dict:
    """What the archive says about its articles, by natural keys (no surrogate ids or clocks)."""
    queries = {
        "articles": "SELECT * FROM articles_flat",
        "articles_raw": "SELECT * FROM articles",
        "authors": "SELECT a.canonical_url, aa.position, au.name, aa.credentials FROM article_authors aa "
                   "JOIN articles a ON a.id = aa.article_id JOIN authors au ON au.id = aa.author_id",
        "keywords": "SELECT a.canonical_url, ak.position, k.name FROM article_keywords ak "
                    "JOIN articles a ON a.id = ak.article_id JOIN keywords k ON k.id = ak.keyword_id",
        "issues": "SELECT i.url, i.date, i.title, n.name FROM issues i "
                  "LEFT JOIN newsletters n ON n.id = i.newsletter_id",
        "contents": "SELECT i.url, ia.position, ia.title, ia.url, a.canonical_url FROM issue_articles ia "
                    "JOIN issues i ON i.id = ia.issue_id LEFT JOIN articles a ON a.id = ia.article_id",
    }
    skip = {"id", "newsletter_id", "issue_id", "capture_id", "first_seen", "last_seen", "updated_at",
            "earlier_versions"}
    dump = {}
    for name, sql in queries.items():
        cursor = archive.db.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = [tuple((k, v) for k, v in zip(names, row) if k not in skip) for row in cursor]
        dump[name] = sorted(rows, key=repr)
    return dump


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "archive.db") as opened:
        yield opened


# -- opening and migrations ------------------------------------------------------------------

def test_creates_parent_directories_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "deep" / "er" / "archive.db"
    with Archive(path) as archive:
        assert archive.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert archive.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert archive.schema_version == SCHEMA_VERSION
    assert path.exists()


def test_empty_version_zero_file_is_initialised(tmp_path):
    path = tmp_path / "empty.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE crawl_queue (url TEXT)")  # another module's table may come first
    conn.close()
    with Archive(path) as archive:
        assert archive.schema_version == SCHEMA_VERSION
        assert {"articles", "articles_fts", "captures", "crawl_queue"} <= set(archive.db.table_names())
        assert "articles_flat" in archive.db.view_names()


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "a.db"
    with Archive(path) as archive:
        archive.store(make_article(1))
    with Archive(path) as archive:
        assert archive.db["articles"].count == 1


def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ArchiverError, match="newer than this archiver supports") as info:
        Archive(path)
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_a_file_that_is_not_sqlite_is_refused_in_one_line(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are not the bytes of a database\n" * 50)
    with pytest.raises(ArchiverError, match="not an SQLite archive") as info:
        Archive(path)
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_unversioned_file_with_a_foreign_articles_table_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articles (headline TEXT)")
    conn.close()
    with pytest.raises(ArchiverError, match="not an archiver archive"):
        Archive(path)


def test_create_false_refuses_a_missing_file(tmp_path):
    with pytest.raises(ArchiverError, match="no such archive"):
        Archive(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


# -- transactions ----------------------------------------------------------------------------

def test_exception_inside_transaction_rolls_back_everything(archive):
    capture = Capture("https://x/a", 200, {"content-type": "text/html"}, b"<p>x</p>", "2026-01-01T00:00:00Z")
    with pytest.raises(RuntimeError):
        with archive.transaction():
            archive.add_capture(capture)
            archive.store(make_article(1))
            archive.db["articles"].update(1, {"title": "edited via sqlite-utils"})
            archive.db["keywords"].insert({"name": "inserted via sqlite-utils"})
            with archive.transaction():  # nested: joins the outer one
                archive.store(make_article(2))
            raise RuntimeError("crash mid-batch")
    for table in ("captures", "capture_bodies", "articles", "authors", "keywords", "articles_fts"):
        assert archive.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_nested_transaction_commits_only_with_the_outer_one(tmp_path):
    path = tmp_path / "a.db"
    with Archive(path) as archive:
        with archive.transaction():
            with archive.transaction():
                archive.store(make_article(1))
            other = sqlite3.connect(path)
            assert other.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
            other.close()
        other = sqlite3.connect(path)
        assert other.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        other.close()


def test_failed_inner_block_caught_by_caller_undoes_only_itself(archive):
    with archive.transaction():
        archive.store(make_article(1))
        with pytest.raises(ValueError):
            with archive.transaction():
                archive.store(make_article(2))
                raise ValueError("bad page")
        archive.store(make_article(3))
    assert [r[0] for r in archive.db.execute("SELECT site_article_id FROM articles ORDER BY 1")] == [1, 3]


def test_second_writer_gets_archive_locked(tmp_path):
    path = tmp_path / "a.db"
    with Archive(path) as first, Archive(path) as second:
        second.db.conn.execute("PRAGMA busy_timeout = 50")
        with first.transaction():
            with pytest.raises(ArchiveLocked):
                with second.transaction():
                    pass


# -- captures --------------------------------------------------------------------------------

def test_capture_bytes_round_trip_exactly_and_secrets_are_dropped(archive):
    body = bytes(range(256)) * 40 + "é<html>".encode("latin-1")
    headers = {"content-type": "text/html; charset=ISO-8859-1", "etag": '"v1"',
               "set-cookie": "session=secret", "cookie": "a=b", "authorization": "Basic eA==",
               "last-modified": "Tue, 01 Jan 2019 00:00:00 GMT"}
    capture = Capture(f"{SITE}/articles/1-x", 200, headers, body, "2026-11-28T06:00:00Z")
    capture_id = archive.add_capture(capture)
    again = archive.get_capture(capture_id)
    assert again.body == body and again.url == capture.url and again.status == 200
    assert again.fetched_at == capture.fetched_at and again.content_type == "text/html"
    assert again.headers == {"content-type": "text/html; charset=ISO-8859-1", "etag": '"v1"',
                             "last-modified": "Tue, 01 Jan 2019 00:00:00 GMT"}
    stored = archive.db.execute("SELECT * FROM captures").fetchone()
    assert "secret" not in json.dumps(stored) and "Basic" not in json.dumps(stored)
    compressed = archive.db.execute("SELECT body FROM capture_bodies").fetchone()[0]
    assert zlib.decompress(compressed) == body and len(compressed) < len(body)


def test_every_capture_is_kept_and_identical_bodies_stored_once(archive):
    for hour in range(3):
        archive.add_capture(Capture(f"{SITE}/a", 200, {}, b"same page", f"2026-01-01T0{hour}:00:00Z"))
    archive.add_capture(Capture(f"{SITE}/a", 200, {}, b"new page", "2026-01-01T04:00:00Z"))
    assert archive.db["captures"].count == 4
    assert archive.db["capture_bodies"].count == 2


# -- store / load ----------------------------------------------------------------------------

def test_stored_article_reads_back_as_the_same_record(archive):
    article = make_article(7)
    assert archive.store(article) == "new"
    assert archive.get_article(article.canonical_url) == article


def test_article_without_canonical_url_is_keyed_by_its_url(archive):
    article = make_article(3, canonical_url=None)
    archive.store(article)
    assert archive.get_article(article.url).canonical_url == article.url
    assert archive.store(article) == "unchanged"


def test_article_without_any_url_is_keyed_by_the_hash_of_its_content(archive):
    # A saved page without a canonical link, parsed without --url.
    article = make_article(3, canonical_url=None, url=None)
    assert archive.store(article) == "new"
    key = archive.db.execute("SELECT canonical_url FROM articles").fetchone()[0]
    assert key.startswith("urn:sha256:") and len(key) == len("urn:sha256:") + 64
    assert archive.store(article) == "unchanged"
    assert archive.load([article]) == {"unchanged": 1}
    assert archive.get_article(key) == dataclasses.replace(article, canonical_url=key)
    # Its exported record (canonical_url = the key) loads back onto the same row.
    assert archive.store(archive.get_article(key)) == "unchanged"
    # Another text is another record.
    assert archive.store(dataclasses.replace(article, body="Other words.")) == "new"
    assert archive.db["articles"].count == 2


def test_loading_twice_changes_nothing(archive):
    articles = [make_article(n) for n in range(1, 30)]
    assert archive.load(articles) == {"new": 29}
    before = table_dump(archive)
    assert archive.load(articles) == {"unchanged": 29}
    assert table_dump(archive) == before
    assert archive.db["article_versions"].count == 0
    assert archive.db["authors"].count == 4  # three Ana Writers + Bo Editor, not duplicated


def test_unchanged_store_only_moves_last_seen(archive):
    archive.store(make_article(1), seen_at="2026-01-01T00:00:00Z")
    archive.store(make_article(1), seen_at="2026-02-01T00:00:00Z")
    first, last = archive.db.execute("SELECT first_seen, last_seen FROM articles").fetchone()
    assert (first, last) == ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")


def test_changed_article_updates_row_links_and_keeps_one_version(archive):
    old = make_article(1)
    archive.store(old, seen_at="2026-01-01T00:00:00Z")
    new = make_article(1, title="A corrected title", keywords=["Insomnia", "Melatonin"],
                       authors=[Author("Cy Newauthor", ["DO"])])
    assert archive.store(new, seen_at="2026-03-01T00:00:00Z") == "changed"
    assert archive.get_article(new.canonical_url) == new
    assert archive.db["articles"].count == 1
    assert archive.db["article_authors"].count == 1
    assert archive.db.execute("SELECT keywords_text FROM articles").fetchone()[0] == "Insomnia; Melatonin"
    versions = list(archive.db["article_versions"].rows)
    assert len(versions) == 1
    assert Article.from_json(versions[0]["record"]) == old
    assert json.loads(versions[0]["changed_fields"]) == ["title", "authors", "keywords"]
    assert versions[0]["last_seen"] == "2026-01-01T00:00:00Z"
    assert archive.store(new) == "unchanged"
    assert archive.db["article_versions"].count == 1


def test_only_volatile_fields_differing_is_unchanged(archive):
    archive.store(make_article(1))
    moved = make_article(1, url=f"{SITE}/articles/1-study-1?utm=x", parser_version="9.9",
                         warnings=["something new"])
    assert archive.store(moved) == "unchanged"


def test_issue_contents_link_articles_stored_later(archive):
    first = make_article(1)
    second_url = f"{SITE}/articles/2-study-2"
    first.issue.articles.append(IssueArticle("Second", second_url))
    archive.store(first)
    assert archive.db.execute("SELECT article_id FROM issue_articles WHERE url = ?",
                              [second_url]).fetchone()[0] is None
    archive.store(make_article(2, issue=first.issue))
    row = archive.db.execute("SELECT issue_articles.article_id, articles.canonical_url FROM issue_articles "
                             "JOIN articles ON articles.id = issue_articles.article_id "
                             "WHERE issue_articles.url = ?", [second_url]).fetchone()
    assert row[1] == second_url


def test_issue_contents_are_the_most_complete_seen_and_do_not_make_siblings_changed(archive):
    archive.load([make_article(1), make_article(5)])
    grown = make_issue(1)
    grown.articles.append(IssueArticle("A late addition", f"{SITE}/articles/99-late"))
    assert archive.store(make_article(5, issue=grown)) == "unchanged"
    assert archive.get_article(make_article(1).canonical_url).issue == grown
    # A sibling stored later with a partial copy does not shrink it.
    assert archive.store(make_article(1, issue=make_issue(1))) == "unchanged"
    assert archive.get_article(make_article(5).canonical_url).issue == grown
    assert archive.db["issues"].count == 1 and archive.db["article_versions"].count == 0


def test_issue_contents_kept_do_not_depend_on_the_order_articles_are_stored(tmp_path):
    grown = make_issue(1)
    grown.articles.append(IssueArticle("A late addition", f"{SITE}/articles/99-late"))
    retitled = make_issue(1)
    retitled.articles[0] = IssueArticle("Another title", retitled.articles[0].url)
    versions = [make_article(1), make_article(5, issue=grown), make_article(6, issue=retitled)]
    kept = []
    for order in ([0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]):
        with Archive(tmp_path / f"{order}.db") as opened:
            for index in order:
                opened.store(versions[index])
            kept.append([opened.get_article(a.canonical_url).issue for a in versions])
    assert all(issues == [grown] * 3 for issues in kept)
    # Equally complete copies: the same one wins in every order too.
    with Archive(tmp_path / "a.db") as first, Archive(tmp_path / "b.db") as second:
        first.load([make_article(1), make_article(6, issue=retitled)])
        second.load([make_article(6, issue=retitled), make_article(1)])
        assert first.get_article(make_article(1).canonical_url).issue == \
            second.get_article(make_article(1).canonical_url).issue


def test_fts_follows_inserts_and_changes(archive):
    archive.store(make_article(1))
    assert [r["id"] for r in archive.db["articles"].search("insomnia")] == [1]
    archive.store(make_article(1, body="Nothing about that any more.", keywords=["Mood"],
                               disclosure=None, title="Mood"))
    assert list(archive.db["articles"].search("café")) == []
    assert [r["id"] for r in archive.db["articles"].search("mood")] == [1]


def test_a_failing_store_inside_load_leaves_nothing_behind(archive):
    # An Article that skipped validation (see validate.py): SQLite cannot bind a list.
    articles = [make_article(1), make_article(2), make_article(3, title=["not", "a", "string"])]
    with pytest.raises(sqlite3.Error):
        archive.load(articles)
    assert archive.db["articles"].count == 0


def test_the_same_article_several_times_in_one_load(archive):
    first, second, third = make_article(1), make_article(1, title="Second"), make_article(1, title="Third")
    assert archive.load([make_article(2), first, second, make_article(3), third, third]) == {
        "new": 3, "changed": 2, "unchanged": 1}
    assert archive.get_article(first.canonical_url) == third
    assert [json.loads(r)["title"] for (r,) in archive.db.execute(
        "SELECT record FROM article_versions ORDER BY id")] == [first.title, "Second"]
    assert [r["id"] for r in archive.db["articles"].search("third")] == [2]
    assert list(archive.db["articles"].search("second")) == []
    archive.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")


def test_bulk_load_into_a_populated_archive_keeps_the_index_and_triggers(archive):
    archive.load([make_article(n) for n in range(1, 6)])
    archive.load([make_article(2, body="Rewritten about zolpidem."), make_article(9)])
    assert [r["id"] for r in archive.db["articles"].search("zolpidem")] == [2]
    assert [r["id"] for r in archive.db["articles"].search("drug9")] == [6]
    assert sorted(r["id"] for r in archive.db["articles"].search("slept")) == [1, 3, 4, 5, 6]  # 2: old body gone
    triggers = {t.name for t in archive.db["articles"].triggers}
    assert {"articles_ai", "articles_ad", "articles_au"} <= triggers
    archive.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    # The bigger indexing buffer of bulk loads is put back to FTS5's default.
    assert archive.db.execute("SELECT v FROM articles_fts_config WHERE k = 'hashsize'").fetchone() == (1048576,)
    archive.store(make_article(10, body="Single store of trazodone."))  # through the triggers
    assert [r["site_article_id"] for r in archive.db["articles"].search("trazodone")] == [10]


def test_fast_record_conversion_matches_the_dataclass_json():
    from archiver.archive.store import FAST_RECORD, normalised

    assert FAST_RECORD, "Article's fields changed: update store.normalised and the schema"
    for article in (make_article(4), make_article(5, issue=None, citation=None, authors=[])):
        assert normalised(article) == article.to_dict()
        assert list(normalised(article)) == list(article.to_dict())


# -- the fields of schema version 2 --------------------------------------------------------------

@pytest.mark.parametrize("change, field", [
    ({"article_type": "Expert Q&A (revised)"}, "article_type"),
    ({"authors": [Author("Ana Writer1", ["MD"], "Another Institute"), Author("Bo Editor", ["PhD", "LCSW"])]},
     "authors"),
    ({"issue": dataclasses.replace(make_issue(1), volume="99")}, "issue"),
    ({"issue": dataclasses.replace(make_issue(1), number="2")}, "issue"),
])
def test_the_new_fields_are_compared_for_changed(archive, change, field):
    archive.store(make_article(1))
    changed = make_article(1, **change)
    assert archive.store(changed) == "changed"
    (fields,) = [json.loads(r) for (r,) in archive.db.execute("SELECT changed_fields FROM article_versions")]
    assert fields == [field]
    assert archive.get_article(changed.canonical_url) == changed


def test_the_new_fields_are_stored_where_analysts_look(archive):
    archive.store(make_article(1))
    row = archive.db.execute(
        "SELECT articles.article_type, affiliations_text, issue_volume, issue_number, affiliations "
        "FROM articles JOIN articles_flat USING (id)").fetchone()
    assert row == ("Expert Q&A", "Sleep Institute 1", "11", "1", "Sleep Institute 1")
    assert archive.db.execute("SELECT affiliation FROM article_authors ORDER BY position").fetchall() == [
        ("Sleep Institute 1",), (None,)]
    # authors.affiliation keeps the latest printed; a page without one does not erase it.
    archive.store(make_article(4))  # Ana Writer1 again, "Sleep Institute 1"
    archive.store(make_article(7, authors=[Author("Ana Writer1", ["MD"])]))
    assert archive.db.execute("SELECT affiliation FROM authors WHERE name = 'Ana Writer1'").fetchone() == (
        "Sleep Institute 1",)


def test_affiliations_are_searchable(archive):
    archive.load([make_article(1), make_article(2, authors=[Author("Cy Other", [], "Harbor University")])])
    assert [hit["id"] for hit in archive.search("harbor")] == [2]
    assert [hit["id"] for hit in archive.search("affiliations_text:institute")] == [1]
