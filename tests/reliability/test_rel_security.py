"""Security: scope, schemes and robots; secrets never written anywhere; no file name from a URL;
SQL always bound; stored text stays text."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from pathlib import Path

from checks import run_cli
from faults import FaultServer
from figures import add
from protego import Protego

from archiver.archive import Archive
from archiver.config import CrawlConfig
from archiver.mirror import SITE, Page, SiteServer, mirror_pages

REPO = Path(__file__).resolve().parents[2]
PAGES = SITE.parent / "pages"
COOKIE = "planted-cookie-7f3a9c1e5d"
SET_COOKIE = "server-session-4b8e2d6a"
PASSWORD = "planted-password-92c4e1"
ARTICLE = "/articles/1843-expert-qa-getting-started-with-cbt-for-insomnia"
TRAVERSAL = ["/articles/7001-..%2F..%2F..%2Fescape", "/newsletters/..%2f..%2fetc%2fpasswd",
             "/articles/7002-a%00b", "/articles/7003-" + "x" * 300]


def every_output(root: Path, extra: list[str]) -> dict[str, bytes]:
    """Every byte written under `root` (WARC members inflated) plus the given stdout/stderr."""
    found = {f"stream {n}": text.encode() for n, text in enumerate(extra)}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                data += gzip.decompress(data)
            found[str(path.relative_to(root))] = data
    return found


def test_cookies_and_credentials_never_leave_a_trace_and_scope_holds(tmp_path):
    pages = mirror_pages()
    pages[ARTICLE].headers = (("Set-Cookie", f"session={SET_COOKIE}; Path=/; HttpOnly"),)
    listing = "".join(f'<a href="{p}">{p}</a>' for p in TRAVERSAL)
    pages["/newsletters/odd-links"] = Page(f"<html><body><h1>Odd</h1>{listing}</body></html>".encode())
    out = tmp_path / "out"
    out.mkdir()
    with SiteServer({}) as other, FaultServer(pages) as server:
        pages["/newsletters/odd-links"] = Page(
            (pages["/newsletters/odd-links"].body.decode()
             + f'<a href="{other.url("/articles/5-other-host")}">x</a></body></html>').encode())
        cookies = tmp_path / "cookies.txt"
        cookies.write_text("# Netscape HTTP Cookie File\n"
                           f"127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\t{COOKIE}\n")
        listings = sorted(p for p in pages if p.startswith("/newsletters/") and "?" not in p)
        result = run_cli("crawl", *[server.url(p) for p in listings], "--db", out / "archive.db",
                         "--warc-dir", out / "warc", "--log", out / "crawl.log", "--cookies", cookies,
                         "--delay", "0", "--retries", "0")
        # A URL with a password in it is refused (it would be stored with every capture of it).
        with_password = run_cli("crawl", server.url("/newsletters/general-psychiatry").replace(
            "http://", f"http://archivist:{PASSWORD}@"), "--db", tmp_path / "second.db")
        export = run_cli("export", "--format", "csv", "--output", out / "all.csv", "--db", out / "archive.db")
        stats = run_cli("stats", "--db", out / "archive.db")
        hits, other_hits = list(server.hits), list(other.hits)
    assert result.returncode in (0, 1), result.stderr
    assert with_password.returncode == 2 and PASSWORD not in with_password.stderr
    # The cookie did reach the server (so the test can fail)...
    assert any(COOKIE in hit.headers.get("Cookie", "") for hit in hits)
    # ...and appears in none of our outputs, nor does the server's Set-Cookie value.
    outputs = every_output(out, [result.stdout, result.stderr, export.stdout, export.stderr,
                                 stats.stdout, with_password.stderr])
    leaks = sorted(name for name, data in outputs.items()
                   if any(s.encode() in data for s in (COOKIE, SET_COOKIE, PASSWORD)))
    assert leaks == []
    assert any(name.endswith(".warc.gz") for name in outputs) and "crawl.log" in outputs
    # Scope: one host only, http only; robots.txt obeyed.
    assert other_hits == []
    rules = Protego.parse((SITE / "robots.txt").read_text())
    disallowed = [h.path for h in hits if not rules.can_fetch("http://x" + h.path, CrawlConfig().user_agent)]
    assert disallowed == []
    # No file name derived from a URL: only the archive, its lock, the log and WARC files by date.
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    allowed = re.compile(r"^(archive\.db(-wal|-shm|\.lock)?|crawl\.log|all\.csv|"
                         r"warc/archiver-\d{14}-\d+-\d{5}\.warc\.gz)$")
    assert [n for n in names if not allowed.match(n)] == []
    assert not list(tmp_path.parent.glob("escape*")) and not (tmp_path / "escape").exists()
    add("security", planted_secrets=3, outputs_searched=len(outputs), secret_leaks=len(leaks),
        requests=len(hits), requests_off_scope=len(other_hits), robots_disallowed_fetched=len(disallowed),
        files_written=len(names), files_named_from_urls=0)


def script_page() -> bytes:
    page = (PAGES / "tcpr-expert-qa.html").read_text(encoding="utf-8")
    marker = "<p>"
    at = page.index(marker, page.index("field--name-body") if "field--name-body" in page else 0)
    payload = ('<p>Inert: &lt;script&gt;alert("stored")&lt;/script&gt; and '
               '&lt;img src=x onerror=alert(1)&gt; stay text.</p>'
               '<script>document.title = "executed"</script>')
    return (page[:at] + payload + page[at:]).encode("utf-8")


def test_markup_in_an_article_is_stored_and_exported_as_inert_text(tmp_path):
    from archiver.parse import parse_article

    article = parse_article(script_page(), url="https://www.thecarlatreport.com" + ARTICLE)
    assert '<script>alert("stored")</script>' in article.body
    assert "<img src=x onerror=alert(1)>" in article.body
    assert "executed" not in article.body  # a real <script> element is never content
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        archive.store(article)
    with sqlite3.connect(db) as conn:
        body = conn.execute("SELECT body FROM articles").fetchone()[0]
    assert '<script>alert("stored")</script>' in body
    jsonl = run_cli("export", "--db", db)
    csv_out = run_cli("export", "--format", "csv", "--db", db)
    found = run_cli("search", "stored", "--json", "--db", db)
    assert json.loads(jsonl.stdout)["body"] == body
    assert '<script>alert(""stored"")</script>' in csv_out.stdout  # CSV quoting, still text
    assert "stored" in json.loads(found.stdout)[0]["snippet"]
    # The project renders no HTML itself; Datasette escapes every plain description, so the
    # metadata must not use the raw *_html keys for anything.
    metadata = (REPO / "datasette-metadata.json").read_text()
    assert "_html" not in metadata and "<script" not in metadata.lower()
    add("security", script_payloads_kept_as_text=2, script_elements_dropped=1)


INJECTIONS = ["'; DROP TABLE articles; --", "\" OR 1=1 --", "lithium) OR (1=1", "x' OR '1'='1",
              "%", "_", "\\", "'", "articles_fts MATCH '*'", "NEAR(a b, -1)", "title:", "*",
              "lithium\x00drop", "ñ' UNION SELECT sql FROM sqlite_master --"]


def test_search_input_cannot_alter_the_sql(tmp_path):
    from archiver.errors import ArchiverError

    db = tmp_path / "archive.db"
    records = [json.loads(p.read_text()) for p in sorted(PAGES.glob("*.expected.json"))]
    records = [r for r in records if "error" not in r]
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert run_cli("load", jsonl, "--db", db).returncode == 0
    answers = {}
    with Archive(db) as archive:
        for text in INJECTIONS:
            for name in ("query", "author", "keyword", "newsletter", "study_type"):
                query, filters = (text, {}) if name == "query" else ("depression", {name: text})
                try:
                    found = archive.search(query, **filters)
                    answer = "results" if found else "no match"
                except ArchiverError as exc:  # the documented one-line error (exit 2)
                    assert str(exc) and "\n" not in str(exc)
                    answer = "refused"
                if name != "query" and text not in ("%", "_"):
                    # A filter value is a value: an injection matches nothing, not everything.
                    assert answer == "no match", (name, text, answer)
                answers[answer] = answers.get(answer, 0) + 1
    # The same through the command line: one line, exit 2, no traceback.
    for text in INJECTIONS[:4]:
        result = run_cli("search", text, "--db", db)
        assert result.returncode in (0, 2) and "Traceback" not in result.stderr
        assert result.returncode == 0 or result.stderr.count("\n") == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (len(records),)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} >= {
            "articles", "captures", "authors", "keywords"}
    add("security", sql_injection_attempts=sum(answers.values()), sql_injection_answers=answers,
        tables_altered=0)
