"""Site profiles: TOML data chooses URL patterns and field rules; a new site is a file, not code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from archiver.cli import main
from archiver.errors import ArchiverError, NotAnArticle
from archiver.parse import carlat, parse_article
from archiver.parse.profiles import builtin_names, get_profile, load_profile_file, profile_for_url
from archiver.parse.page import clean_canonical
from archiver.parse.rules import css_to_xpath

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOCTUA_PAGES = FIXTURES / "pages" / "noctua"
NOCTUA_TOML = Path(__file__).resolve().parents[1] / "src" / "archiver" / "profiles" / "noctua.toml"
BLANKETS = NOCTUA_PAGES / "noctua-weighted-blankets.html"
BLANKETS_URL = "https://www.noctualetter.org/letter/4401/weighted-blankets-and-insomnia-in-adults"


def test_the_built_in_profiles_are_carlat_noctua_and_generic():
    assert {"carlat", "noctua", "generic"} <= set(builtin_names())


def test_profile_is_chosen_by_host_and_carlat_is_the_default():
    assert profile_for_url(BLANKETS_URL).name == "noctua"
    assert profile_for_url("https://thecarlatreport.com/articles/1-x").name == "carlat"
    assert profile_for_url("http://127.0.0.1:8000/articles/1-x").name == "carlat"
    assert profile_for_url(None).name == "carlat"


def test_carlat_profile_data_is_what_the_carlat_module_uses():
    profile = get_profile("carlat")
    assert profile.hosts == frozenset(carlat.HOSTS)
    assert profile.start_urls == carlat.START_URLS
    for url in ("/articles/1234-is-ketamine-just-another-opiate", "/newsletter-issue/tcprv37n1",
                "/newsletters/general-psychiatry?page=1", "/store/books", "/articles/x"):
        assert profile.classify(url) == carlat.classify(url), url
    assert profile.article_id("https://www.thecarlatreport.com/articles/1227-x") == 1227


def test_noctua_links_are_classified_from_its_file_alone():
    profile = get_profile("noctua")
    assert profile.classify(BLANKETS_URL) == "article"
    assert profile.classify("/issues/2024-03") == "issue"
    assert profile.classify("/archive?p=2") == "listing"
    assert profile.classify("/topics/insomnia") is None
    assert profile.classify("https://elsewhere.example/letter/4401/x") is None
    assert profile.article_id(BLANKETS_URL) == 4401
    assert profile.start_urls == ["https://www.noctualetter.org/archive"]


def test_a_profile_file_given_by_path_parses_like_the_built_in(tmp_path):
    copy = tmp_path / "my-site.toml"
    shutil.copy(NOCTUA_TOML, copy)
    by_file = parse_article(BLANKETS.read_bytes(), profile=str(copy))
    by_name = parse_article(BLANKETS.read_bytes(), profile="noctua")
    assert by_file == by_name
    assert by_file.study_type == "Randomized, sham-controlled trial"
    assert by_file.provenance["study_type"] == "label 'Study design:'"


def test_a_changed_rule_in_the_file_changes_the_field(tmp_path):
    text = NOCTUA_TOML.read_text(encoding="utf-8").replace(
        'category = {css = "article p.kicker"}', 'category = {value = "Sleep"}')
    edited = tmp_path / "edited.toml"
    edited.write_text(text, encoding="utf-8")
    assert parse_article(BLANKETS.read_bytes(), url=BLANKETS_URL, profile=str(edited)).category == "Sleep"


def test_label_lines_and_chrome_inside_the_body_are_not_body_text():
    article = parse_article(BLANKETS.read_bytes(), url=BLANKETS_URL)
    assert article.body.startswith("Weighted blankets are sold")
    for chrome in ("Source article", "Study design", "insomnia primer", "Copy link",
                   "Competing interests", "Filed under", "Most read", "Get the letter"):
        assert chrome not in article.body
    assert article.citation.journal == "Sleep Med Rev" and article.citation.year == 2023


def test_og_url_tracking_query_is_not_part_of_the_canonical_url():
    page = NOCTUA_PAGES / "noctua-shift-work-checklist.html"
    assert b"utm_source=newsletter" in page.read_bytes()
    article = parse_article(page.read_bytes(), profile="noctua")  # no URL: og:url is canonical
    assert article.canonical_url == "https://www.noctualetter.org/letter/4402/shift-work-disorder-a-practical-checklist"
    assert clean_canonical("https://x.org/a?id=3&utm_medium=email&fbclid=9#top") == "https://x.org/a?id=3"


def test_carlat_pages_strip_tracking_query_from_og_url_too():
    seed = (FIXTURES / "pages" / "tcpr-ketamine-opiate.html").read_text(encoding="utf-8")
    url = "https://www.thecarlatreport.com/articles/1227-is-ketamine-just-another-opiate"
    seed = seed.replace('<link rel="canonical"', '<link rel="x-canonical"')
    assert f'content="{url}"' in seed
    tracked = seed.replace(f'content="{url}"', f'content="{url}?utm_source=twitter&amp;page=2"')
    assert parse_article(tracked).canonical_url == url + "?page=2"


def test_listing_pages_of_a_profile_are_not_articles():
    page = NOCTUA_PAGES / "noctua-archive.html"
    with pytest.raises(NotAnArticle, match="listing"):
        parse_article(page.read_bytes(), url="https://www.noctualetter.org/archive")
    with pytest.raises(NotAnArticle):
        parse_article(page.read_bytes(), profile="noctua")


@pytest.mark.parametrize("css, matches", [
    ("h1.letter-entry__headline", 1),
    ("article p.contributors a[rel=author]", 2),
    ("div.meta-row > time", 1),
    ("#content .crumbs a", 2),
    ("time[datetime^='2024-03']", 1),
    ("aside.rail h2, footer p", 3 + 3),
])
def test_css_selectors_translate_to_xpath(css, matches):
    root = lxml_html.fromstring(BLANKETS.read_bytes())
    assert len(root.xpath(css_to_xpath(css))) == matches


@pytest.mark.parametrize("text, message", [
    ('title = "x"', "needs a name"),
    ('name = "x"\nextractor = "magic"', "unknown extractor"),
    ('name = "x"\n[links]\narticle = "(unclosed"', "bad regex"),
    ('name = "x"\n[fields]\ntitel = {css = "h1"}', "unknown field"),
    ('name = "x"\n[fields]\ntitle = {selector = "h1"}', "a rule needs one of"),
    ('name = = "x"', "not a valid TOML profile"),
])
def test_bad_profiles_get_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArchiverError, match=message):
        load_profile_file(path)


def test_unknown_profile_name_is_an_error():
    with pytest.raises(ArchiverError, match="no profile named 'nope'"):
        get_profile("nope")


# ------------------------------------------------------------------ the command line

def test_profiles_command_lists_the_built_in_profiles():
    result = CliRunner().invoke(main, ["profiles"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "www.noctualetter.org" in lines["noctua"]
    assert "thecarlatreport.com" in lines["carlat"]
    assert "generic" in lines


def test_parse_with_profile_option_and_bad_profile():
    runner = CliRunner()
    result = runner.invoke(main, ["parse", str(BLANKETS), "--profile", "noctua"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["article_id"] == 4401 and record["study_type"] == "Randomized, sham-controlled trial"
    bad = runner.invoke(main, ["parse", str(BLANKETS), "--profile", "nope"])
    assert bad.exit_code == 2
    assert bad.output.strip().startswith("error: no profile named 'nope'")


# ------------------------------------------------------------------ crawling a second site

def crawl_mirror(site_dir, tmp_path, profile, start_paths=(), **settings):
    """Crawl a fixture mirror (served by archiver.demo.SiteServer) with a profile; the report
    and every archived article by URL path."""
    from urllib.parse import urlsplit

    from archiver.archive import Archive
    from archiver.config import CrawlConfig
    from archiver.crawl import crawl
    from archiver.demo import SiteServer, mirror_pages

    config = CrawlConfig(delay=0, jitter=0, concurrency=2, retries=0, timeout=5, warc=False,
                         db=str(tmp_path / "archive.db"), **settings)
    with SiteServer(mirror_pages(site_dir)) as server, Archive(config.db) as archive:
        report = crawl([server.url(p) for p in start_paths], archive, config, profile=profile)
        rows = archive.db.execute("select url, title from articles").fetchall()
        paths = sorted(server.paths())
    return report, {urlsplit(url).path: title for url, title in rows}, paths


def test_a_profile_file_alone_crawls_the_noctua_mirror(tmp_path):
    # The profile is a copy of the TOML file outside the package: no code knows this site.
    profile = tmp_path / "noctua-copy.toml"
    shutil.copy(NOCTUA_TOML, profile)
    site = FIXTURES / "profiles" / "noctua" / "site"
    manifest = json.loads((site / "MANIFEST.json").read_text(encoding="utf-8"))
    report, articles, requested = crawl_mirror(site, tmp_path, str(profile), ["/archive"])
    letters = sorted(p for p in manifest if p.startswith("/letter/"))
    assert sorted(articles) == letters
    assert articles["/letter/4402/shift-work-disorder-a-practical-checklist"] == \
        "Shift Work Disorder: A Practical Checklist"
    assert report.failed == 0 and report.new == 4
    assert "/archive?p=2" in requested and "/issues/2024-03" in requested
    assert not any(p.startswith(("/topics/", "/subscribe", "/share", "/about")) for p in requested)
    # field coverage of the run comes from the profile's rules
    assert report.coverage()["study_type"] == 0.5 and report.coverage()["disclosure"] == 1.0


def test_generic_crawl_finds_articles_through_sitemap_and_rss(tmp_path):
    site = FIXTURES / "profiles" / "generic" / "site"
    report, articles, requested = crawl_mirror(site, tmp_path, "generic", ["/"])
    assert sorted(articles) == ["/blog/losing-a-colony", "/news/falcon-cam", "/news/water-board-lead-pipes"]
    assert {"/sitemap.xml", "/feed.xml"} <= set(requested)
    assert "/about" not in requested  # not listed by a sitemap or feed: not followed
    assert report.failed == 0 and report.new == 3
    assert articles["/blog/losing-a-colony"] == "Losing a colony to a warm winter"


def test_crawl_command_refuses_an_unknown_profile_before_opening_the_archive(tmp_path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(main, ["crawl", "--db", str(db), "--profile", "nope", "http://127.0.0.1:9/"])
    assert result.exit_code == 2
    assert "error: no profile named 'nope'" in result.output
    assert not db.exists()


def test_a_page_parsed_without_url_resolves_its_contents_against_its_canonical_url():
    seed = (FIXTURES / "pages" / "tcpr-ketamine-opiate.html").read_text(encoding="utf-8")
    moved = seed.replace("https://www.thecarlatreport.com/articles/1227", "https://mirror.example.org/articles/1227")
    article = parse_article(moved)
    assert article.canonical_url.startswith("https://mirror.example.org/articles/1227-")
    urls = [entry.url for entry in article.issue.articles]
    assert urls and all(u.startswith("https://mirror.example.org/articles/") for u in urls)


def test_generic_crawl_of_a_site_without_a_sitemap_reports_no_failure(tmp_path):
    # The generic profile tries /sitemap.xml on its own; a site without one is not an error,
    # or a scheduled crawl would exit 1 on every run.
    site = FIXTURES / "profiles" / "generic" / "site"
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    manifest = json.loads((copy / "MANIFEST.json").read_text(encoding="utf-8"))
    del manifest["/sitemap.xml"]
    (copy / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    report, articles, requested = crawl_mirror(copy, tmp_path, "generic", ["/"])
    assert "/sitemap.xml" in requested
    assert report.failed == 0 and report.failures == []
    assert articles  # the feed the home page announces still lists them
