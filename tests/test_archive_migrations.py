"""Schema migrations: a version-1 archive (the first schema) is upgraded in place, atomically."""

import sqlite3

import pytest
from test_archive import make_article

from archiver.archive import Archive, schema
from archiver.errors import ArchiverError


def add_reading_time(db):
    """A stand-in version 2: a new column, filled from existing data."""
    db["articles"].add_column("reading_minutes", int)
    db.execute("UPDATE articles SET reading_minutes = (word_count + 199) / 200")


def broken_migration(db):
    db["articles"].add_column("half_done", str)
    raise sqlite3.OperationalError("disk I/O error in the middle of a migration")


@pytest.fixture
def v1_archive(tmp_path):
    path = tmp_path / "v1.db"
    with Archive(path) as archive:
        assert archive.schema_version == 1
        archive.load([make_article(n, word_count=450) for n in range(1, 4)])
    return path


def test_the_first_schema_is_version_1():
    assert schema.MIGRATIONS[1] is schema.create_v1 and min(schema.MIGRATIONS) == 1


def test_a_version_1_archive_is_upgraded_in_place_keeping_its_data(v1_archive, monkeypatch):
    monkeypatch.setitem(schema.MIGRATIONS, 2, add_reading_time)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    with Archive(v1_archive) as archive:
        assert archive.schema_version == 2
        assert archive.db["articles"].count == 3
        assert {r for (r,) in archive.db.execute("SELECT reading_minutes FROM articles")} == {3}
        assert [r["id"] for r in archive.search("slept", limit=5)]  # the index survived
        archive.store(make_article(9))  # and the new schema takes writes
    with Archive(v1_archive) as archive:  # reopening does not migrate again
        assert archive.schema_version == 2 and archive.db["articles"].count == 4


def test_a_failing_migration_leaves_the_archive_at_its_old_version(v1_archive, monkeypatch):
    monkeypatch.setitem(schema.MIGRATIONS, 2, broken_migration)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    with pytest.raises(ArchiverError, match="upgrading the schema to version 2 failed, the archive is unchanged"):
        Archive(v1_archive)
    monkeypatch.undo()
    with Archive(v1_archive) as archive:
        assert archive.schema_version == 1
        assert "half_done" not in archive.db["articles"].columns_dict
        assert archive.db["articles"].count == 3


def test_code_that_knows_only_version_1_refuses_a_version_2_archive(v1_archive, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setitem(schema.MIGRATIONS, 2, add_reading_time)
        patched.setattr(schema, "SCHEMA_VERSION", 2)
        Archive(v1_archive).close()
    with pytest.raises(ArchiverError, match="schema version 2 is newer than this archiver supports \\(1\\)"):
        Archive(v1_archive)
