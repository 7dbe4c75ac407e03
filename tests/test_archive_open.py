"""Opening: read-only commands never write into a file, and no command adopts a file that is
someone else's database."""

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_archive import make_article

from archiver.archive import Archive
from archiver.cli import main
from archiver.errors import ArchiverError

READ_COMMANDS = [["stats"], ["search", "notes"], ["export"], ["export", "--format", "csv"]]
CLI = [sys.executable, "-c", "from archiver.cli import main; main(prog_name='archiver')"]


def fingerprint(directory: Path) -> dict[str, str]:
    """Every file in the directory and the hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def notes_db(path: Path, wal: bool) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = wal")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('call the library on Monday')")
    conn.commit()
    conn.close()
    return path


def run(*args):
    """The real command in its own process: what a librarian's shell runs."""
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_read_commands_refuse_another_programs_database_and_leave_it_byte_for_byte(tmp_path, command, wal):
    db = notes_db(tmp_path / "notes.db", wal)
    before = fingerprint(tmp_path)
    result = run(*command, "--db", db)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "not an archiver archive" in result.stderr and "notes" in result.stderr
    assert fingerprint(tmp_path) == before  # no -wal, no -shm, not a byte changed


@pytest.mark.parametrize("command", READ_COMMANDS + [["reparse"]], ids=" ".join)
def test_an_empty_file_does_not_become_an_archive(tmp_path, command):
    db = tmp_path / "empty.db"
    db.touch()
    result = run(*command, "--db", db)
    assert result.returncode == 2 and "is an empty file, not an archive" in result.stderr
    assert fingerprint(tmp_path) == {"empty.db": hashlib.sha256(b"").hexdigest()}


@pytest.mark.parametrize("command", [["load", "-"], ["reparse"]], ids=" ".join)
def test_writing_commands_do_not_adopt_another_programs_database_either(tmp_path, command):
    db = notes_db(tmp_path / "notes.db", wal=False)
    before = fingerprint(tmp_path)
    result = subprocess.run([*CLI, *command, "--db", str(db)], input=make_article(1).to_json() + "\n",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "not an archiver archive" in result.stderr
    assert fingerprint(tmp_path) == before


def test_read_commands_leave_an_archive_and_its_directory_as_they_were(tmp_path):
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        archive.load([make_article(n) for n in range(1, 6)])
    before = fingerprint(tmp_path)
    assert sorted(before) == ["archive.db"]
    for command in READ_COMMANDS:
        result = CliRunner().invoke(main, [*command, "--db", str(db)])
        assert result.exit_code == 0, result.output
    assert fingerprint(tmp_path) == before


def test_reading_while_a_writer_holds_the_archive(tmp_path):
    db = tmp_path / "archive.db"
    with Archive(db) as writer:
        writer.load([make_article(n) for n in range(1, 6)])
        with writer.transaction():
            writer.store(make_article(9))
            with Archive(db, read_only=True) as reader:  # sees the last commit, not this one
                assert reader.db["articles"].count == 5
                assert [hit["id"] for hit in reader.search("drug3")] == [3]
        assert Path(f"{db}-wal").exists()  # the writer's, still open
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.db"]


def test_an_archive_opened_read_only_refuses_writes(tmp_path):
    db = tmp_path / "archive.db"
    Archive(db).close()
    with Archive(db, read_only=True) as archive:
        with pytest.raises(ArchiverError, match="opened read-only"):
            archive.store(make_article(1))
    with Archive(db, read_only=True) as archive:
        assert archive.db["articles"].count == 0


def test_an_unversioned_file_holding_only_crawl_tables_becomes_an_archive(tmp_path):
    path = tmp_path / "a.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE crawl_queue (url TEXT)")  # the crawler's table may come first
    conn.close()
    with pytest.raises(ArchiverError, match="not an archive yet"):
        Archive(path, read_only=True)
    with Archive(path) as archive:
        assert archive.schema_version == 2
