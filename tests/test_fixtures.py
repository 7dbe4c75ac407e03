"""Sanity checks of the fixture data: golden files are well-formed and the site mirror is closed."""

import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from archiver.record import Article

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = FIXTURES / "pages"
SITE = FIXTURES / "site"
MANIFEST = json.loads((SITE / "MANIFEST.json").read_text(encoding="utf-8"))
MIRROR = "http://mirror.test"

NOT_AN_ARTICLE = {"error": "not an article page"}
WARNABLE_FIELDS = {"title", "authors", "published", "disclosure", "body", "keywords"}
FOLLOWED = [  # the site profile's link patterns (see CONTRACT.md), on path + query
    re.compile(r"^/articles/\d+-[^/?#]+$"),
    re.compile(r"^/newsletter-issue/[^/?#]+$"),
    re.compile(r"^/newsletters/[^/?#]+(\?page=\d+)?$"),
]

page_files = sorted(PAGES.glob("*.html"))
site_html = sorted(p for p in SITE.rglob("*.html"))


def expected_of(page: Path) -> dict:
    return json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))


def test_there_are_enough_pages_and_every_page_has_a_golden_file():
    assert len(page_files) >= 15
    for page in page_files:
        assert page.with_suffix(".expected.json").is_file(), page.name
    for golden in PAGES.glob("*.expected.json"):
        assert golden.with_name(golden.name.replace(".expected.json", ".html")).is_file(), golden.name


@pytest.mark.parametrize("page", page_files, ids=lambda p: p.stem)
def test_golden_file_is_a_complete_record_or_the_not_an_article_error(page):
    expected = expected_of(page)
    if "error" in expected:
        assert expected == NOT_AN_ARTICLE
        return
    assert list(expected) == list(Article().to_dict()), "keys must be exactly the record's, in order"
    assert Article.from_dict(expected).to_dict() == expected
    assert expected["word_count"] == len(expected["body"].split())
    assert set(expected["warnings"]) <= WARNABLE_FIELDS
    assert expected["keywords"] == [k.lower() for k in expected["keywords"]]
    assert ("keywords" in expected["warnings"]) == (not expected["keywords"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", expected["published"])
    assert expected["body"] == expected["body"].strip() and "\n\n\n" not in expected["body"]
    assert expected["title"] not in expected["body"].split("\n")


@pytest.mark.parametrize("page", page_files, ids=lambda p: p.stem)
def test_meta_file_gives_the_url_the_golden_record_was_written_for(page):
    meta_file = page.with_suffix(".meta.json")
    assert meta_file.is_file()
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    # the site's three generations: /articles/<id>-<slug>, /<newsletter>/<slug>/, /node/<n> (the
    # child report on its own host then)
    assert re.match(r"^https?://www\.thecarlat(?:child)?report\.com/", meta["url"])
    expected = expected_of(page)
    if "error" not in expected:
        assert expected["url"] == meta["url"]
        article_id = re.search(r"/articles/(\d+)-", meta["url"])
        assert expected["article_id"] == (int(article_id.group(1)) if article_id else None)


def test_windows_1252_page_really_is_windows_1252():
    raw = (PAGES / "tcpr-cp1252.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "charset=windows-1252" in text and "“professional”" in text


def test_manifest_files_exist_and_every_mirror_file_is_served():
    served = {entry["file"] for entry in MANIFEST.values()}
    for url_path, entry in MANIFEST.items():
        assert url_path.startswith("/")
        assert (SITE / entry["file"]).is_file(), url_path
        assert entry["content_type"]
    # Pages served as they are in tests/fixtures/pages are referenced there, not copied.
    shared = {f for f in served if f.startswith("../pages/")}
    assert all((SITE / f).resolve().parent.parent == FIXTURES.resolve() for f in shared)
    on_disk = {str(p.relative_to(SITE)) for p in SITE.rglob("*") if p.is_file()} - {"MANIFEST.json"}
    assert on_disk == served - shared


def mirror_links(html_file: Path, url_path: str) -> list[str]:
    tree = lxml.html.fromstring(html_file.read_bytes())
    return [urljoin(MIRROR + url_path, href.strip()) for href in tree.xpath("//a/@href")]


def test_every_followable_link_in_the_mirror_resolves_to_a_mirror_page():
    followable = 0
    for url_path, entry in MANIFEST.items():
        if not entry["content_type"].startswith("text/html"):
            continue
        for link in mirror_links(SITE / entry["file"], url_path):
            parts = urlsplit(link)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.netloc.endswith("thecarlatreport.com"):
                assert not any(p.match(target) for p in FOLLOWED), f"{url_path} links off-mirror to {link}"
            if parts.netloc != urlsplit(MIRROR).netloc or not any(p.match(target) for p in FOLLOWED):
                continue
            followable += 1
            assert target in MANIFEST, f"{url_path} links to {target}, missing from the mirror"
    assert followable > 50


def test_mirror_has_pagination_issues_articles_and_out_of_scope_links():
    paths = set(MANIFEST)
    assert "/newsletters/general-psychiatry?page=1" in paths
    assert sum(p.startswith("/newsletter-issue/") for p in paths) >= 3
    assert sum(p.startswith("/articles/") for p in paths) >= 12
    all_links = set()
    for url_path, entry in MANIFEST.items():
        if entry["content_type"].startswith("text/html"):
            all_links.update(mirror_links(SITE / entry["file"], url_path))
    assert any(link.startswith("mailto:") for link in all_links)
    assert any(link.startswith("https://twitter.com/") for link in all_links)
    assert any(link.endswith(".pdf") for link in all_links)
    assert MIRROR + "/store" in all_links and MIRROR + "/user/login" in all_links


def test_robots_disallows_a_page_that_the_mirror_links_to():
    rules = [line.split(":", 1)[1].strip() for line in (SITE / "robots.txt").read_text().splitlines()
             if line.lower().startswith("disallow:")]
    assert "/user/" in rules and "/cart" in rules
    linked = set()
    for url_path, entry in MANIFEST.items():
        if entry["content_type"].startswith("text/html"):
            linked.update(urlsplit(link).path for link in mirror_links(SITE / entry["file"], url_path))
    assert any(path in MANIFEST and path.startswith(rule) for rule in rules for path in linked
               if rule.startswith("/articles/"))


def test_mirror_copies_of_fixture_pages_are_identical_so_their_golden_records_apply():
    copies = {entry["fixture"]: entry["file"] for entry in MANIFEST.values() if "fixture" in entry}
    assert len(copies) >= 10
    for name, file in copies.items():
        assert (SITE / file).read_bytes() == (PAGES / f"{name}.html").read_bytes(), name


def browser_text(html: bytes) -> str:
    """Roughly what a browser shows: no head, scripts or hidden elements; images by their alt text."""
    tree = lxml.html.fromstring(html)
    for element in tree.xpath("//head|//script|//style|//noscript|//template"):
        element.drop_tree()
    for element in tree.xpath("//*[@hidden or contains(translate(@style, ' ', ''), 'display:none')"
                              " or contains(concat(' ', @class, ' '), ' hidden ')]"):
        element.drop_tree()
    for image in tree.xpath("//img[@alt]"):
        image.tail = f" {image.get('alt')} {image.tail or ''}"
    return " ".join(tree.text_content().split())


def test_rebuilt_seed_page_shows_exactly_the_text_of_the_real_page():
    seed_text = (PAGES / "tcpr-ketamine-opiate.seed.txt").read_text(encoding="utf-8").replace("•", " ")
    assert browser_text((PAGES / "tcpr-ketamine-opiate.html").read_bytes()) == " ".join(seed_text.split())


def test_every_mirror_article_of_an_issue_shows_the_same_table_of_contents():
    # As on the real site: a crawl of the mirror must not depend on which article it saw last.
    from archiver.parse import parse_article

    contents: dict[tuple, set] = {}
    for url_path, entry in MANIFEST.items():
        if not url_path.startswith("/articles/"):
            continue
        article = parse_article((SITE / entry["file"]).read_bytes(),
                                url="https://www.thecarlatreport.com" + url_path,
                                headers={"content-type": entry["content_type"]})
        if article.issue and article.issue.articles:
            key = (article.newsletter, article.issue.date, article.issue.url)
            contents.setdefault(key, set()).add(
                tuple((e.title, e.url) for e in article.issue.articles))
    assert len(contents) >= 3
    assert {key: len(copies) for key, copies in contents.items() if len(copies) > 1} == {}
