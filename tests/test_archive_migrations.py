"""Schema migrations, tested on a real version-1 archive (tests/fixtures/archives/v1-demo.db,
written by the code of that version): upgraded in place, atomically, keeping every record."""

import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from test_archive import make_article

from archiver.archive import Archive, SCHEMA_VERSION, migrations, schema
from archiver.errors import ArchiverError

V1_DEMO = Path(__file__).parent / "fixtures" / "archives" / "v1-demo.db"


@pytest.fixture
def v1_copy(tmp_path):
    copy = tmp_path / "archive.db"
    shutil.copy(V1_DEMO, copy)
    return copy


def columns(path, table) -> list[str]:
    with Archive(path, read_only=True) as archive:  # leaves no -wal/-shm behind
        return list(archive.db[table].columns_dict)


def schema_sql(path) -> set:
    conn = sqlite3.connect(path)
    try:
        return set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                "WHERE name NOT LIKE 'crawl_%' AND tbl_name NOT LIKE 'crawl_%'"))
    finally:
        conn.close()


def test_the_versions_are_1_then_2():
    assert list(migrations.MIGRATIONS) == [1, 2] and SCHEMA_VERSION == 2
    assert migrations.MIGRATIONS[1] is schema.create_v1


def test_the_fixture_is_a_version_1_archive():
    with Archive(V1_DEMO, read_only=True) as archive:
        assert archive.schema_version == 1 and archive.db["articles"].count == 14
        assert "profile" not in archive.db["captures"].columns_dict
    assert not Path(f"{V1_DEMO}-wal").exists() and not Path(f"{V1_DEMO}-shm").exists()


def test_a_copy_of_the_v1_archive_is_upgraded_keeping_every_record(v1_copy):
    with Archive(v1_copy, read_only=True) as old:  # read as version 1, without upgrading it
        assert old.schema_version == 1
        before = list(old.iter_articles())
        hits_before = [hit["id"] for hit in old.search("depression", limit=50)]
    assert len(before) == 14
    with Archive(v1_copy) as archive:
        assert archive.schema_version == 2
        assert archive.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert archive.db.execute("PRAGMA foreign_key_check").fetchall() == []
        archive.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        after = list(archive.iter_articles())
        assert after == before  # every field, nested ones included
        assert all(a.article_type is None and a.issue.volume is None and a.issue.number is None
                   and all(author.affiliation is None for author in a.authors) for a in after)
        assert sorted(hit["id"] for hit in archive.search("depression", limit=50)) == sorted(hits_before)
        # The same records stored again are unchanged: the hashes follow today's recipe.
        assert archive.load(before) == {"unchanged": 14}
        assert {archive.store(article) for article in before} == {"unchanged"}
        assert archive.db["article_versions"].count == 0
        # Tables of contents of the mirror now point at the articles they list.
        assert archive.db.execute("SELECT count(*), count(article_id) FROM issue_articles").fetchone() == (14, 14)
    for table, column, _ in schema.V2_COLUMNS:
        assert column in columns(v1_copy, table), (table, column)
    with Archive(v1_copy) as archive:  # reopening does not migrate again
        assert archive.schema_version == 2 and archive.db["articles"].count == 14


def test_hashes_of_any_older_recipe_are_recomputed(v1_copy):
    # Archives written before the record had article_type, affiliation, volume and number
    # hashed fewer keys: whatever the recipe was, the upgrade recomputes the hash.
    conn = sqlite3.connect(v1_copy)
    conn.execute("UPDATE articles SET content_sha256 = 'an-older-recipe-' || id")
    conn.commit()
    conn.close()
    with Archive(v1_copy, read_only=True) as old:
        before = list(old.iter_articles())
    with Archive(v1_copy) as archive:
        assert archive.load(before) == {"unchanged": 14}


def test_a_new_archive_and_an_upgraded_one_have_the_same_schema(v1_copy, tmp_path):
    Archive(v1_copy).close()
    Archive(tmp_path / "new.db").close()
    assert schema_sql(v1_copy) == schema_sql(tmp_path / "new.db")


def test_an_upgraded_archive_takes_the_new_fields(v1_copy):
    with Archive(v1_copy) as archive:
        archive.store(make_article(9))
        stored = archive.get_article(make_article(9).canonical_url)
    assert stored == make_article(9) and stored.article_type and stored.issue.volume


def test_read_only_commands_read_a_v1_archive_without_upgrading_it(v1_copy):
    original = v1_copy.read_bytes()
    with Archive(v1_copy, read_only=True) as archive:
        assert archive.stats()["counts"]["articles"] == 14
        assert archive.search("ketamine")[0]["title"] == "Is Ketamine Just Another Opiate?"
        jsonl, flat = io.StringIO(), io.StringIO()
        assert archive.export("jsonl", jsonl) == 14 and archive.export("csv", flat) == 14
    assert v1_copy.read_bytes() == original
    assert sorted(p.name for p in v1_copy.parent.iterdir()) == ["archive.db"]
    assert "article_type" not in flat.getvalue().splitlines()[0]  # version 1's view
    with Archive(v1_copy) as archive:
        upgraded = io.StringIO()
        archive.export("jsonl", upgraded)
    assert upgraded.getvalue() == jsonl.getvalue()


def broken_migration(db):
    db["articles"].add_column("half_done", str)
    raise sqlite3.OperationalError("disk I/O error in the middle of a migration")


def test_a_failing_migration_leaves_the_archive_at_its_old_version(v1_copy, monkeypatch):
    monkeypatch.setitem(migrations.MIGRATIONS, 2, broken_migration)
    with pytest.raises(ArchiverError, match="upgrading the schema to version 2 failed, the archive is unchanged"):
        Archive(v1_copy)
    monkeypatch.undo()
    assert "half_done" not in columns(v1_copy, "articles")
    assert "profile" not in columns(v1_copy, "captures")
    with Archive(v1_copy, read_only=True) as archive:
        assert archive.schema_version == 1 and archive.db["articles"].count == 14


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_version_is_refused_and_left_untouched(v1_copy, read_only):
    conn = sqlite3.connect(v1_copy)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    original = v1_copy.read_bytes()
    with pytest.raises(ArchiverError, match=f"schema version {SCHEMA_VERSION + 1} is newer than this "
                                            f"archiver supports \\({SCHEMA_VERSION}\\)"):
        Archive(v1_copy, read_only=read_only)
    assert v1_copy.read_bytes() == original
