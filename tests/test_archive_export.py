"""Export round trips, stats, and the archive commands of the CLI, on real SQLite files."""

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_archive import content_dump, make_article

from archiver.archive import Archive
from archiver.cli import main
from archiver.errors import ArchiverError
from archiver.record import Article, Capture


@pytest.fixture
def populated(tmp_path):
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.load([make_article(n) for n in range(1, 25)])
        archive.store(make_article(3, title="Revised title", keywords=["Sleep"]))
        archive.store(make_article(30, citation=None, issue=None, newsletter=None, authors=[],
                                   keywords=[], published=None, body=None))
    return path


def test_jsonl_export_loads_back_into_an_empty_archive_with_identical_content(populated, tmp_path):
    exported = io.StringIO()
    with Archive(populated) as archive:
        assert archive.export("jsonl", exported) == 25
        original = content_dump(archive)
    records = [Article.from_json(line) for line in exported.getvalue().splitlines()]
    with Archive(tmp_path / "copy.db") as copy:
        assert copy.load(records) == {"new": 25}
        again = io.StringIO()
        copy.export("jsonl", again)
        assert again.getvalue() == exported.getvalue()
        restored = content_dump(copy)
    assert restored == original and len(original["authors"]) == 48


def test_jsonl_lines_are_the_records_as_parse_prints_them(populated):
    out = io.StringIO()
    with Archive(populated) as archive:
        archive.export("jsonl", out)
    first = json.loads(out.getvalue().splitlines()[0])
    assert first == make_article(1).to_dict()


def test_csv_export_is_one_row_per_article(populated):
    out = io.StringIO()
    with Archive(populated) as archive:
        assert archive.export("csv", out) == 25
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 25
    third = next(r for r in rows if r["site_article_id"] == "3")
    assert third["title"] == "Revised title" and third["earlier_versions"] == "1"
    assert third["authors"] == "Ana Writer0; Bo Editor"


def test_unknown_export_format(populated):
    with Archive(populated) as archive, pytest.raises(ArchiverError, match="unknown export format"):
        archive.export("xml", io.StringIO())


def test_stats(populated):
    with Archive(populated) as archive:
        archive.add_capture(Capture("https://x/a", 200, {}, b"abc" * 100, "2026-01-02T00:00:00Z"))
        figures = archive.stats()
    assert figures["counts"]["articles"] == 25
    assert figures["counts"]["article_versions"] == 1
    assert figures["counts"]["captures"] == 1
    assert figures["capture_bytes"]["raw"] == 300 and 0 < figures["capture_bytes"]["stored"] < 300
    assert figures["published"] == {"first": "2010-02-15", "last": "2019-02-15"}
    assert figures["articles_per_newsletter"]["(none)"] == 1
    assert sum(figures["articles_per_newsletter"].values()) == 25


# -- CLI -------------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_load_reports_bad_lines_loads_the_rest_and_exits_1(tmp_path):
    source = tmp_path / "records.jsonl"
    lines = [make_article(1).to_json(), "{broken", make_article(2).to_json(), '{"title": ["a list"]}',
             "", make_article(1).to_json()]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "new" / "archive.db"
    result = run("load", source, "--db", db)
    assert result.exit_code == 1
    assert "records.jsonl:2:" in result.output and "records.jsonl:4:" in result.output
    assert "loaded 3 records: 2 new, 0 changed, 1 unchanged; 2 bad lines" in result.output
    assert "Traceback" not in result.output
    with Archive(db) as archive:
        assert archive.db["articles"].count == 2


def test_cli_load_twice_is_idempotent(tmp_path):
    source = tmp_path / "records.jsonl"
    source.write_text("".join(make_article(n).to_json() + "\n" for n in range(5)), encoding="utf-8")
    db = tmp_path / "a.db"
    assert run("load", source, "--db", db).exit_code == 0
    result = run("load", source, "--db", db)
    assert result.exit_code == 0 and "0 new, 0 changed, 5 unchanged" in result.output


def test_cli_search_text_and_json(populated):
    result = run("search", "revised", "--db", populated)
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("1. Revised title (")
    result = run("search", "sleep", "--db", populated, "--json", "--author", "writer2",
                 "--since", "2014", "--limit", "3")
    hits = json.loads(result.output)
    assert len(hits) == 3 and all("Writer2" in h["authors"] and h["published"] >= "2014" for h in hits)


@pytest.mark.parametrize("query", ['"unbalanced', "AND OR"])
def test_cli_bad_query_is_one_line_exit_2(populated, query):
    result = run("search", query, "--db", populated)
    assert result.exit_code == 2
    assert result.output.startswith("error: bad search query") and result.output.count("\n") == 1


@pytest.mark.parametrize("command", [["search", "x"], ["stats"], ["export"], ["reparse"]])
def test_read_commands_refuse_a_missing_archive_and_do_not_create_it(tmp_path, command):
    db = tmp_path / "missing.db"
    result = run(*command, "--db", db)
    assert result.exit_code == 2 and "no such archive" in result.output
    assert not db.exists()


def test_cli_on_a_file_that_is_not_an_archive(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"\x89PNG not a database" * 100)
    result = run("stats", "--db", bogus)
    assert result.exit_code == 2 and result.output.startswith("error: ") and "Traceback" not in result.output


def test_cli_export_round_trip_through_files(populated, tmp_path):
    out = tmp_path / "export.jsonl"
    assert run("export", "--format", "jsonl", "--output", out, "--db", populated).exit_code == 0
    copy = tmp_path / "copy.db"
    assert run("load", out, "--db", copy).exit_code == 0
    again = tmp_path / "again.jsonl"
    assert run("export", "--output", again, "--db", copy).exit_code == 0
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    csv_out = tmp_path / "export.csv"
    assert run("export", "--format", "csv", "--output", csv_out, "--db", populated).exit_code == 0
    assert len(list(csv.DictReader(csv_out.open(encoding="utf-8")))) == 25


def test_cli_stats(populated):
    result = run("stats", "--db", populated)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"archive {populated}, schema version 2"
    assert "  articles        25 (5 paywalled), published 2010-02-15 .. 2019-02-15" in lines
    assert "  versions        1 earlier versions of changed articles" in lines
    assert json.loads(run("stats", "--json", "--db", populated).output)["counts"]["articles"] == 25


def test_cli_stats_of_an_empty_archive_says_so_and_sizes_read_like_sizes(tmp_path):
    db = tmp_path / "empty.db"
    Archive(db).close()
    result = run("stats", "--db", db)
    assert result.exit_code == 0
    assert "  articles        no articles yet" in result.output
    assert "None" not in result.output
    with Archive(db) as archive:
        archive.add_capture(Capture("https://x/a", 200, {}, bytes(range(256)) * 5000, "2026-01-02T00:00:00Z"))
    result = run("stats", "--db", db)
    assert "  capture bodies  1 distinct: 1.3 MB raw, " in result.output
    assert "  captures        1, fetched 2026-01-02T00:00:00Z\n" in result.output


@pytest.mark.parametrize("count, text", [(0, "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (1000, "1.0 kB"),
                                         (1_234_567, "1.2 MB"), (999_960, "1.0 MB"), (5 * 10**12, "5.0 TB")])
def test_human_sizes(count, text):
    from archiver.archive.report import human_size

    assert human_size(count) == text


def test_csv_export_with_a_byte_order_mark_for_spreadsheets(populated, tmp_path):
    out = tmp_path / "excel.csv"
    assert run("export", "--format", "csv", "--bom", "--output", out, "--db", populated).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,canonical_url,") and raw.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 25 and "Café naïve" in rows[0]["body"]
    plain = run("export", "--format", "csv", "--db", populated)
    assert not plain.stdout.startswith("\ufeff")
    refused = run("export", "--bom", "--db", populated)  # JSON Lines has no byte order mark
    assert refused.exit_code == 2 and "--bom is for --format csv" in refused.output


def test_cli_parse_output_loads_into_the_archive(tmp_path):
    pages = Path(__file__).parent / "fixtures" / "pages"
    parsed = CliRunner().invoke(main, ["parse", str(pages)])
    lines = [line for line in parsed.stdout.splitlines() if line.startswith("{")]
    assert len(lines) >= 10
    source = tmp_path / "parsed.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "a.db"
    result = run("load", source, "--db", db)
    assert result.exit_code == 0, result.output
    with Archive(db) as archive:
        assert archive.db["articles"].count == len(lines)
        for line in lines:
            record = Article.from_json(line)
            stored = archive.get_article(record.canonical_url or record.url)
            assert stored.title == record.title and stored.body == record.body
            assert stored.authors == record.authors and stored.keywords == record.keywords
    assert "unchanged" in run("load", source, "--db", db).output


def test_export_to_a_path(populated, tmp_path):
    with Archive(populated) as archive:
        assert archive.export("csv", tmp_path / "out.csv") == 25
        assert archive.export(output=str(tmp_path / "out.jsonl")) == 25
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 25
    assert len(list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))) == 25


# -- exports that cannot destroy ------------------------------------------------------------------

def _integrity(path) -> tuple[str, int]:
    with Archive(path, create=False) as archive:
        check = archive.db.execute("PRAGMA integrity_check").fetchone()[0]
        return check, archive.db["articles"].count


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_export_onto_the_archive_or_its_companions_is_refused_and_the_archive_kept(populated, suffix):
    target = f"{populated}{suffix}"
    before = Path(populated).read_bytes()
    result = run("export", "--output", target, "--db", populated)
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert "archive's own file" in result.output and result.output.count("\n") == 1
    assert Path(populated).read_bytes() == before
    assert _integrity(populated) == ("ok", 25)


def test_export_through_a_symlink_to_the_archive_is_refused(populated, tmp_path):
    link = tmp_path / "innocent.jsonl"
    link.symlink_to(populated)
    result = run("export", "--output", link, "--force", "--db", populated)
    assert result.exit_code == 2 and "archive's own file" in result.output
    assert _integrity(populated) == ("ok", 25)


def test_default_db_as_output_is_refused(populated, tmp_path, monkeypatch):
    # The reported accident: `--output data/archive.db` with the default --db.
    (tmp_path / "data").mkdir()
    Path(populated).rename(tmp_path / "data" / "archive.db")
    monkeypatch.chdir(tmp_path)
    result = run("export", "--output", "data/archive.db")
    assert result.exit_code == 2
    assert _integrity(tmp_path / "data" / "archive.db") == ("ok", 25)


def test_an_existing_output_is_replaced_only_with_force(populated, tmp_path):
    out = tmp_path / "mine.jsonl"
    out.write_text("somebody's notes\n", encoding="utf-8")
    result = run("export", "--output", out, "--db", populated)
    assert result.exit_code == 2 and "already exists; use --force" in result.output
    assert out.read_text(encoding="utf-8") == "somebody's notes\n"
    assert run("export", "--output", out, "--force", "--db", populated).exit_code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 25
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_an_export_that_fails_leaves_no_output(populated, tmp_path):
    out = tmp_path / "out.csv"
    with Archive(populated) as archive:
        with pytest.raises(ArchiverError):
            archive.export("xml", out)
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
