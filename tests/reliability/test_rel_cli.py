"""Bad input to the CLI: one `error: ...` line on stderr and a documented exit status, never a
traceback."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from checks import run_cli
from figures import _collected, add

from archiver.archive import Archive

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
DOCUMENTED = {0, 1, 2, 3, 75, 130}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-inputs")
    (root / "not-sqlite.db").write_bytes(b"these bytes are no SQLite database at all\n" * 50)
    (root / "a-directory.db").mkdir()
    with Archive(root / "good.db") as archive:
        archive.load([])
    (root / "truncated.db").write_bytes((root / "good.db").read_bytes()[:1500])
    (root / "newer.db").write_bytes((root / "good.db").read_bytes())
    with sqlite3.connect(root / "newer.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    with sqlite3.connect(root / "foreign.db") as conn:
        conn.execute("CREATE TABLE articles (x)")
    (root / "bad-key.toml").write_text("delya = 1\n")
    (root / "bad-type.toml").write_text('delay = "fast"\n')
    (root / "bad-toml.toml").write_text("delay = = 1\n")
    (root / "page.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 10)
    (root / "empty.html").write_bytes(b"")
    good = json.loads((PAGES / "tcpr-expert-qa.expected.json").read_text())
    (root / "mixed.jsonl").write_text(json.dumps(good) + "\n{not json\n[1, 2]\n{\"title\": 3}\n")
    (root / "cookies.txt").write_text("this is not a cookies file\tsecret-value-123\n")
    return root


def unreadable(root: Path) -> list:
    """A db the user may not read; root reads every file, so there the case is a db path whose
    parent is a regular file (the open fails the same way: the OS refuses)."""
    if os.geteuid() != 0:
        target = root / "unreadable.db"
        target.write_bytes((root / "good.db").read_bytes())
        target.chmod(0)
        return [("stats: unreadable db", ["stats", "--db", target], 2)]
    return [("stats: db under a regular file", ["stats", "--db", root / "page.pdf" / "archive.db"], 2),
            ("load: db under a regular file", ["load", root / "mixed.jsonl", "--db", root / "page.pdf" / "a.db"], 2)]


def cases(root: Path) -> list[tuple[str, list, int]]:
    db = ["--db", root / "good.db"]
    return [
        ("parse: missing file", ["parse", root / "missing.html"], 2),
        ("parse: a PDF", ["parse", root / "page.pdf"], 1),
        ("parse: an empty file", ["parse", root / "empty.html"], 1),
        ("parse: --url with two files", ["parse", root / "page.pdf", root / "empty.html", "--url", "http://x/"], 2),
        ("load: missing file", ["load", root / "missing.jsonl", *db], 2),
        ("load: bad lines among good ones", ["load", root / "mixed.jsonl", "--db", root / "load.db"], 1),
        ("load: db is a directory", ["load", root / "mixed.jsonl", "--db", root / "a-directory.db"], 2),
        ("search: missing db", ["search", "lithium", "--db", root / "missing.db"], 2),
        ("search: not an SQLite file", ["search", "lithium", "--db", root / "not-sqlite.db"], 2),
        ("stats: truncated db", ["stats", "--db", root / "truncated.db"], 2),
        ("stats: db is a directory", ["stats", "--db", root / "a-directory.db"], 2),
        ("stats: db of a newer schema", ["stats", "--db", root / "newer.db"], 2),
        ("stats: another program's SQLite file", ["stats", "--db", root / "foreign.db"], 2),
        ("reparse: not an SQLite file", ["reparse", "--db", root / "not-sqlite.db"], 2),
        ("export: into a missing directory", ["export", "--output", root / "no" / "such" / "x.jsonl", *db], 2),
        ("export: unknown format", ["export", "--format", "xml", *db], 2),
        ("search: unbalanced quote", ["search", '"lithium', *db], 2),
        ("search: bare operators", ["search", "AND OR", *db], 2),
        ("search: bad column filter", ["search", "nosuchcolumn:lithium", *db], 2),
        ("search: lone NEAR(", ["search", "NEAR(", *db], 2),
        ("search: bad --since", ["search", "x", "--since", "last tuesday", *db], 2),
        ("crawl: unknown config key", ["crawl", "--config", root / "bad-key.toml", "http://127.0.0.1:9/", *db], 2),
        ("crawl: config value of the wrong type", ["crawl", "--config", root / "bad-type.toml", "http://127.0.0.1:9/", *db], 2),
        ("crawl: config not TOML", ["crawl", "--config", root / "bad-toml.toml", "http://127.0.0.1:9/", *db], 2),
        ("crawl: missing config", ["crawl", "--config", root / "missing.toml", *db], 2),
        ("crawl: not a URL", ["crawl", "not-a-url", *db], 2),
        ("crawl: file:// URL", ["crawl", "file:///etc/passwd", *db], 2),
        ("crawl: ftp:// URL", ["crawl", "ftp://127.0.0.1/x", *db], 2),
        ("crawl: unclosed IPv6 bracket", ["crawl", "http://[::1/x", *db], 2),
        ("crawl: port out of range", ["crawl", "http://127.0.0.1:99999/x", *db], 2),
        ("crawl: delay not a number", ["crawl", "--delay", "abc", "http://127.0.0.1:9/", *db], 2),
        ("crawl: negative delay", ["crawl", "--delay", "-1", "http://127.0.0.1:9/", *db], 2),
        ("crawl: malformed cookies file", ["crawl", "--cookies", root / "cookies.txt", "http://127.0.0.1:9/", *db], 2),
        *unreadable(root),
        ("unknown command", ["frobnicate"], 2),
        ("unknown option", ["stats", "--frobnicate", *db], 2),
    ]


def test_every_bad_input_gets_one_line_and_a_documented_status(files):
    answered = []
    problems = []
    for name, args, expected in cases(files):
        result = run_cli(*args, timeout=60)
        lines = result.stderr.strip().splitlines()
        first = lines[0].replace(str(files), "<tmp>") if lines else ""
        answered.append([name, result.returncode, first[:100]])
        if (result.returncode != expected or "Traceback" in result.stderr or len(lines) < 1
                or not all(line.startswith("error: ") for line in lines)
                or (expected == 2 and len(lines) != 1)):
            problems.append((name, result.returncode, result.stderr[-400:]))
    assert problems == [], "\n".join(map(repr, problems))
    assert all(status in DOCUMENTED for _, status, _ in answered)
    # A bad line never stops the good ones: the good record of mixed.jsonl was loaded.
    with Archive(files / "load.db") as archive:
        assert archive.db["articles"].count == 1
    # The malformed cookies file is reported without quoting it.
    assert not any("secret-value-123" in line for _, _, line in answered)
    add("cli", bad_inputs=len(answered),
        answered={f"exit {status}": sum(1 for _, s, _ in answered if s == status)
                  for status in sorted({s for _, s, _ in answered})},
        tracebacks=0)
    _collected["cli"]["each"] = answered
