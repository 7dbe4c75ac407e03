"""Search: ranking, snippets, filters as bound parameters, bad queries, and how Datasette finds the index."""

import pytest
from test_archive import make_article

from archiver.archive import Archive
from archiver.archive.schema import FTS_COLUMNS
from archiver.errors import ArchiverError
from archiver.record import Author


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "archive.db") as opened:
        opened.load([make_article(n) for n in range(1, 41)])
        opened.store(make_article(
            100, title="Lithium levels in the elderly", body="Lithium dosing for older adults.",
            authors=[Author("Zoë Ångström", ["MD"])], keywords=["Bipolar Disorder"],
            study_type="Open-label cohort", published="2021-06-01"))
        yield opened


def ids(results):
    return [r["id"] for r in results]


def test_results_are_ranked_with_highlighted_snippets(archive):
    results = archive.search("lithium")
    assert ids(results) == [41]
    assert "[Lithium]" in results[0]["snippet"]
    assert results[0]["title"] == "Lithium levels in the elderly"
    assert results[0]["newsletter"] and results[0]["url"].endswith("/articles/100-study-100")


def test_title_matches_rank_above_body_matches(archive):
    archive.store(make_article(200, title="Notes", body="melatonin " * 3))
    archive.store(make_article(201, title="Melatonin for jet lag", body="A short note."))
    assert ids(archive.search("melatonin"))[:2] == [43, 42]


def test_porter_stemming_and_diacritics_folding(archive):
    assert ids(archive.search("dose")) == [41]  # "dosing" stems to "dose"
    assert ids(archive.search("angstrom")) == [41]  # author names are indexed, accents folded
    assert ids(archive.search("bipolar")) == [41]  # keywords are indexed


def test_limit(archive):
    assert len(archive.search("insomnia", limit=5)) == 5
    assert len(archive.search("insomnia")) == 20


@pytest.mark.parametrize("filters, expected", [
    ({"author": "writer1"}, {n for n in range(1, 41) if n % 3 == 1}),
    ({"author": "ANA WRITER2"}, {n for n in range(1, 41) if n % 3 == 2}),
    ({"keyword": "drug7"}, {7}),
    ({"newsletter": "child"}, {n for n in range(1, 41) if n % 2 == 1}),
    ({"study_type": "crossover"}, {n for n in range(1, 41) if n % 3 == 1}),
    ({"since": "2019"}, {n for n in range(1, 41) if n % 10 == 9} | {41}),  # 41: published 2021
    ({"until": "2010-06"}, {n for n in range(1, 41) if n % 10 == 0 and 1 + n % 9 <= 6}),
    ({"since": "2012-03-15", "until": "2012-03-15"}, {n for n in range(1, 41) if n % 10 == 2 and n % 9 == 2}),
    ({"author": "writer0", "newsletter": "Carlat Psychiatry"}, {n for n in range(1, 41) if n % 6 == 0}),
])
def test_filters(archive, filters, expected):
    assert expected, "the case must select something"
    assert set(ids(archive.search("sleep", limit=100, **filters))) == expected


def test_filters_are_bound_parameters_not_sql(archive):
    hostile = "x' OR 1=1 --"
    for name in ("author", "keyword", "newsletter", "study_type"):
        assert archive.search("sleep", **{name: hostile}) == []
    assert archive.search("sleep", author="%") == []  # LIKE wildcards taken literally
    assert archive.db["articles"].count == 41


@pytest.mark.parametrize("query", ['"unbalanced', "AND OR", "sleep AND", "NEAR(", "title:", "   "])
def test_malformed_queries_raise_one_line_errors(archive, query):
    with pytest.raises(ArchiverError) as info:
        archive.search(query)
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_bad_dates_are_refused(archive):
    with pytest.raises(ArchiverError, match="--since"):
        archive.search("sleep", since="last week")


def test_fts_syntax_works(archive):
    assert ids(archive.search('"lithium dosing"')) == [41]
    assert ids(archive.search("lith*")) == [41]
    assert ids(archive.search("title:lithium")) == [41]
    assert 41 not in ids(archive.search("older NOT lithium"))


def test_sqlite_utils_table_search_finds_the_index(archive):
    table = archive.db["articles"]
    assert table.detect_fts() == "articles_fts"
    assert [r["id"] for r in table.search("lithium")] == [41]


def test_datasette_detects_the_fts_table(archive):
    # The query Datasette (datasette.utils.detect_fts_sql) runs; older releases only accept the
    # double-quoted content="table" spelling, which is the one sqlite-utils writes.
    rows = archive.db.execute("""
        select name from sqlite_master
            where rootpage = 0
            and (
                sql like '%VIRTUAL TABLE%USING FTS%content="articles"%'
                or (tbl_name = "articles" and sql like '%VIRTUAL TABLE%USING FTS%')
            )""").fetchall()
    assert rows == [("articles_fts",)]
    # Datasette then searches with: rowid in (select rowid from fts where fts match :search)
    found = archive.db.execute(
        "select id from articles where rowid in "
        "(select rowid from articles_fts where articles_fts match :search)",
        {"search": "lithium"}).fetchall()
    assert found == [(41,)]


def test_fts_index_definition(archive):
    sql = archive.db["articles_fts"].schema
    assert "porter unicode61 remove_diacritics" in sql
    for column in FTS_COLUMNS:
        assert f'"{column}"' in sql


def test_bumping_last_seen_does_not_reindex(archive):
    before = archive.db.execute("SELECT count(*) FROM articles_fts_data").fetchone()[0]
    archive.load([make_article(n) for n in range(1, 41)])  # all unchanged
    assert archive.db.execute("SELECT count(*) FROM articles_fts_data").fetchone()[0] == before
    # FTS5 raises "database disk image is malformed" if the index disagrees with the table.
    archive.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
