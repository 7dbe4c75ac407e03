"""Datasette on an archive, as analysts run it (`datasette archive.db -m datasette-metadata.json`):
a real server process on a free loopback port, asked for JSON and for HTML pages."""

import html
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from archiver.archive import Archive
from archiver.record import Article, Issue, IssueArticle

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
DATASETTE = Path(sys.executable).with_name("datasette")
ISSUE_TITLE = "Volume 17, Number 1: Ketamine and Other Puzzles"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory) -> Path:
    """The fixture pages' records, and the issue page of the ketamine article's issue."""
    path = tmp_path_factory.mktemp("datasette") / "archive.db"  # served as database "archive"
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(PAGES.glob("*.expected.json"))]
    articles = [Article.from_dict(r) for r in records if "error" not in r]
    ketamine = next(a for a in articles if "ketamine" in a.canonical_url)
    with Archive(path) as archive:
        archive.load(articles)
        archive.store_issue(Issue(date=ketamine.issue.date, title=ISSUE_TITLE, volume="17", number="1",
                                  url="https://www.thecarlatreport.com/newsletter-issue/tcprv17n1",
                                  articles=[IssueArticle(e.title, e.url) for e in ketamine.issue.articles]),
                            ketamine.newsletter)
    return path


@pytest.fixture(scope="module")
def server(archive_path):
    port = free_port()
    process = subprocess.Popen(
        [str(DATASETTE), str(archive_path), "-m", str(ROOT / "datasette-metadata.json"),
         "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/-/versions.json", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"datasette did not start: {process.stdout.read()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_json_search_api_finds_articles(server):
    rows = requests.get(f"{server}/archive/articles.json",
                        params={"_search": "ketamine", "_shape": "array"}, timeout=30).json()
    assert "Is Ketamine Just Another Opiate?" in [row["title"] for row in rows]
    flat = requests.get(f"{server}/archive/articles_flat.json",
                        params={"_search": "naltrexone", "_shape": "array"}, timeout=30).json()
    assert flat and all("naltrexone" in (row["body"] or "").lower() for row in flat)


def test_an_article_row_page_reads_as_an_article(server, archive_path):
    with Archive(archive_path, read_only=True) as archive:
        article_id, body, issue_id = archive.db.execute(
            "SELECT id, body, issue_id FROM articles WHERE canonical_url LIKE '%ketamine%'").fetchone()
    page = requests.get(f"{server}/archive/articles/{article_id}", timeout=30)
    assert page.ok
    text = page.text
    assert html.escape(body.split("\n\n")[0], quote=False) in text  # the body is there
    assert '<link rel="stylesheet" href="data:text/css;base64,' in text  # and styled
    # The issue foreign key shows the issue's title, linking to the issue.
    assert f'<a href="/archive/issues/{issue_id}">{html.escape(ISSUE_TITLE)}</a>' in text
    assert '<a href="/archive/newsletters/' in text


def test_the_table_page_labels_foreign_keys_and_describes_the_table(server):
    text = requests.get(f"{server}/archive/articles", timeout=30).text
    assert html.escape(ISSUE_TITLE) in text
    assert "One row per article" in text and "`" not in text.split("<h1", 1)[1].split("</h1>", 1)[0]


def test_the_crawl_tables_are_described(server, archive_path):
    metadata = requests.get(f"{server}/-/metadata.json", timeout=30).json()
    tables = metadata["databases"]["archive"]["tables"]
    assert "crawl_queue" in tables and "crawl_runs" in tables


def test_the_metadata_serves_an_archive_of_version_1_too(tmp_path):
    # Datasette reads the file as it is: nothing in the metadata may need a version-2 column.
    import shutil

    copy = tmp_path / "archive.db"
    shutil.copy(ROOT / "tests" / "fixtures" / "archives" / "v1-demo.db", copy)
    port = free_port()
    process = subprocess.Popen([str(DATASETTE), "-i", str(copy), "-m", str(ROOT / "datasette-metadata.json"),
                                "-h", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline, response = time.monotonic() + 60, None
        while response is None and time.monotonic() < deadline and process.poll() is None:
            try:
                response = requests.get(f"{base}/archive/articles", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.2)
        assert response is not None and response.status_code == 200
        assert requests.get(f"{base}/archive/articles/14", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
