"""Site profiles (archiver.profile): TOML data chooses URL hints, vocabulary and field rules; a
new site is a file, not code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from archiver.cli import main
from archiver.errors import ArchiverError, NotAnArticle
from archiver.parse import parse_article
from archiver.parse.page import clean_canonical
from archiver.profile import (builtin_names, css_to_xpath, get_profile, load_profile_file,
                              profile_for_url)

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


@pytest.mark.parametrize("url,kind", [
    ("https://www.thecarlatreport.com/articles/1234-is-ketamine-just-another-opiate", "article"),
    ("https://thecarlatreport.com/newsletter-issue/tcprv37n1", "issue"),
    ("https://www.thecarlatreport.com/newsletters/general-psychiatry?page=1", "listing"),
    ("https://www.thecarlatreport.com/newsletters/general-psychiatry", "listing"),
    ("https://www.thecarlatreport.com/store/books", None),
    ("https://www.thecarlatreport.com/articles/", None),
    ("http://127.0.0.1:8765/articles/1234-x", "article"),  # a mirror's URL reads like the site's
    ("/newsletter-issue/tcprv37n1", "issue"),
    ("http://[::1/x", None),
    # the current site
    ("https://www.thecarlatreport.com/newsletters/1", "listing"),
    ("https://www.thecarlatreport.com/newsletters/1?page=2", "listing"),
    ("https://www.thecarlatreport.com/newsletters/1/issues/85", "issue"),
    ("https://www.thecarlatreport.com/rss/articles", "feed"),
    # 2017-2021
    ("https://www.thecarlatreport.com/the-carlat-psychiatry-report/when-to-stop-an-ssri/", "article"),
    ("https://www.thecarlatreport.com/the-carlat-child-psychiatry-report/a-slug/", "article"),
    ("https://www.thecarlatreport.com/the-carlat-psychiatry-report/", "listing"),
    ("https://www.thecarlatreport.com/the-carlat-psychiatry-report/page/2/", "listing"),
    ("https://www.thecarlatreport.com/page/3/", "listing"),
    ("https://www.thecarlatreport.com/newsletter-issue/tcprv16n1/", "issue"),
    ("https://www.thecarlatreport.com/feed/", "feed"),
    # ~2013, also on the child report's own host
    ("https://www.thecarlatchildreport.com/node/512", "article"),
    ("https://www.thecarlatchildreport.com/issue/vol11-no1", "issue"),
    ("https://www.thecarlatreport.com/category/newsletter-article-categories/bipolar", "listing"),
    ("https://www.thecarlatreport.com/", None),  # a start page: a hub whatever hints say
])
def test_carlat_url_hints(url, kind):
    assert get_profile("carlat").hint(url) == kind


@pytest.mark.parametrize("path", [
    "/store", "/store/books/a-book", "/cart", "/cme", "/cme-center/tcpr-march-2021", "/users/sign_in",
    "/user/login?destination=/articles/1", "/login/", "/subscribe/", "/register/", "/access-purchased-content",
    "/blogs/1-the-carlat-psychiatry-blog/post/512-a-post", "/podcast/an-episode/", "/webinars",
    "/psychiatry-news-videos/a-video", "/multimedia", "/authors/12-jane-roe", "/tag/adhd/", "/blog-tag/x/",
    "/podcast-tag/sleep/", "/keywords/ketamine", "/taxonomy/term/41", "/policy/subscription",
    "/privacy-policy/", "/terms-and-conditions/", "/about-us", "/contact-us",
    "/ext/resources/2024/11/01/TCPR_QA_Smith Headshot.jpg?t=1730", "/sites/default/files/pdfs/TCPRV19N3.pdf",
    "/wp-content/uploads/2018/01/x.pdf", "/newsletters/1/issues/85/learning-objectives",
    "/learning-objectives/tcprv19n3", "/editorial-information/tcprv19n3", "/search?q=lithium",
    "/?s=lithium", "/the-carlat-psychiatry-report/a-slug/feed/", "/print/612", "/forward?path=node/612",
    "/a/picture.PNG",
])
def test_carlat_deny_patterns_keep_the_crawl_off_what_is_never_an_article(path):
    assert get_profile("carlat").denies("https://www.thecarlatreport.com" + path)


@pytest.mark.parametrize("path", [
    "/", "/articles/1227-is-ketamine-just-another-opiate", "/articles/1227", "/newsletters/1",
    "/newsletters/1/issues/85", "/rss/articles", "/feed/", "/the-carlat-psychiatry-report/a-slug/",
    "/newsletter-issue/tcprv16n1/", "/page/2/", "/node/512", "/faqs", "/celebrating-ten-years",
    "/articles/2100-the-store-of-memories", "/articles/2101-a-cme-story",
])
def test_carlat_deny_patterns_leave_articles_and_hubs_alone(path):
    assert not get_profile("carlat").denies("https://www.thecarlatreport.com" + path)


def test_article_ids_come_from_whichever_pattern_matches(tmp_path):
    mine = tmp_path / "two.toml"
    mine.write_text('name = "two"\nextends = "carlat"\n[links]\n'
                    "article = ['^/articles/(?P<id>\\d+)(?:-[^/]*)?$', '^/post/(?P<id>\\d+)/[a-z-]+$', "
                    "'^/archive/[a-z-]+/$']\n", encoding="utf-8")
    profile = get_profile(str(mine))
    assert profile.article_id("https://x.example/post/77/a-title") == 77
    assert profile.article_id("https://x.example/articles/12-b") == 12
    assert profile.article_id("https://x.example/archive/no-id-here/") is None
    assert profile.hint("https://x.example/archive/no-id-here/") == "article"
    assert profile.article_ref("https://x.example/articles/12-b") == profile.article_ref("/articles/12") == "/articles/12"
    carlat = get_profile("carlat")
    assert carlat.article_id("https://www.thecarlatchildreport.com/node/512") is None  # not an article id
    assert carlat.article_id("https://www.thecarlatreport.com/the-carlat-psychiatry-report/a-slug/") is None


def test_deny_patterns_merge_with_the_defaults_by_name_and_can_be_switched_off(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('name = "mine"\n[links.deny]\nshop = "^/shop/"\nfixed = ""\n', encoding="utf-8")
    profile = get_profile(str(mine))
    assert profile.denies("https://x.example/shop/a") and profile.denies("https://x.example/a.pdf")
    assert not profile.denies("https://x.example/about")  # the defaults' `fixed` switched off
    assert get_profile("generic").denies("https://x.example/about")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[links.deny]\nshop = "(unclosed"\n', encoding="utf-8")
    with pytest.raises(ArchiverError, match="links.deny.shop: bad regex"):
        get_profile(str(bad))
    bad.write_text('name = "bad"\n[links]\narticel = "^/a/"\n', encoding="utf-8")
    with pytest.raises(ArchiverError, match="links.articel: unknown kind"):
        get_profile(str(bad))


def test_carlat_hosts_ids_and_start_pages():
    profile = get_profile("carlat")
    assert profile.claims("https://thecarlatreport.com/x") and profile.claims("https://www.thecarlatreport.com/")
    assert profile.claims("https://www.thecarlatchildreport.com/node/1")
    assert not profile.claims("https://elsewhere.example/articles/1234-x")
    assert profile.article_id("https://www.thecarlatreport.com/articles/1227-x") == 1227
    assert profile.article_id("https://www.thecarlatreport.com/articles/1234-slug?x=1") == 1234
    assert profile.article_id("https://www.thecarlatreport.com/store") is None
    assert profile.start_urls and all(profile.claims(url) for url in profile.start_urls)
    # the home page and the numbered newsletters; the RSS feed is tried on each start host
    assert profile.start_urls[0] == "https://www.thecarlatreport.com/"
    assert all(profile.hint(url) == "listing" for url in profile.start_urls[1:])
    assert "https://www.thecarlatreport.com/newsletters/1" in profile.start_urls
    assert profile.feeds == ("/rss/articles",)
    assert profile.newsletter_of_issue("https://www.thecarlatreport.com/newsletter-issue/ccprv12n2") == \
        "The Carlat Child Psychiatry Report"
    assert profile.newsletters.name_in("From The Carlat  Geriatric Psychiatry Report, May") == \
        "The Carlat Geriatric Psychiatry Report"


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
    from archiver.mirror import SiteServer, mirror_pages

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
    assert "/about" not in requested and "/contact" not in requested  # fixed pages: denied by defaults.toml
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
    # or a scheduled crawl would exit 1 on every run: a final answer, listed as gone.
    site = FIXTURES / "profiles" / "generic" / "site"
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    manifest = json.loads((copy / "MANIFEST.json").read_text(encoding="utf-8"))
    del manifest["/sitemap.xml"]
    (copy / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    report, articles, requested = crawl_mirror(copy, tmp_path, "generic", ["/"])
    assert "/sitemap.xml" in requested
    assert report.failed == 0 and report.failures == []
    assert "sitemap.xml" in [url.rsplit("/", 1)[-1] for url, _ in report.gone_pages]
    assert articles  # the feed the home page announces still lists them


# ------------------------------------------------------------------ the profile owns the site

SEED = FIXTURES / "pages" / "tcpr-ketamine-opiate.html"


def test_a_user_profile_naming_the_carlat_extractor_keeps_its_own_url_patterns(tmp_path):
    mine = tmp_path / "mirror.toml"
    mine.write_text('name = "my-mirror"\nextractor = "carlat"\nhosts = ["mirror.example.org"]\n'
                    "[links]\narticle = '^/post/(?P<id>\\d+)$'\n", encoding="utf-8")
    profile = get_profile(str(mine))
    assert profile.extractor_name == "layered" and profile.hosts == frozenset({"mirror.example.org"})
    article = parse_article(SEED.read_bytes(), url="https://mirror.example.org/post/42", profile=profile)
    assert article.article_id == 42
    # everything else is Carlat's: the vocabulary and newsletter names came with the extractor
    assert article.newsletter == "The Carlat Psychiatry Report" and article.keywords


def test_extends_takes_a_profile_and_replaces_what_is_given(tmp_path):
    mine = tmp_path / "child.toml"
    mine.write_text('name = "child"\nextends = "carlat"\n[site]\nnames = ["Somebody Else"]\n'
                    "[article]\nmin_words = 5000\nmin_bylined_words = 5000\n", encoding="utf-8")
    child, carlat = get_profile(str(mine)), get_profile("carlat")
    assert child.site_names == ("somebody else",) and child.min_words == 5000
    assert child.hosts == carlat.hosts and child.extractor is carlat.extractor
    assert child.min_teaser_words == carlat.min_teaser_words  # a table merges key by key
    with pytest.raises(NotAnArticle, match="no article text"):
        parse_article(SEED.read_bytes(), profile=child)  # the seed has far fewer words


@pytest.mark.parametrize("css, expected", [
    ('a[title="it\'s"]', ["quoted"]),
    ("h2 + p", ["after"]),
    ("h2 ~ p", ["after", "no", "later"]),
    ("p:not(.skip)", ["after", "later"]),
    ("div > p:first-child", []),
])
def test_css_rules_are_cssselect_selectors(css, expected):
    root = lxml_html.fromstring('<div><h2>t</h2><p>after</p><p class="skip">no</p><p>later</p>'
                                '<a title="it\'s">quoted</a></div>')
    assert [el.text_content() for el in root.xpath(css_to_xpath(css))] == expected


@pytest.mark.parametrize("text, message", [
    ('title = "x"', "a profile needs a name"),
    ('name = "x"\nextractor = "magic"', "unknown extractor"),
    ('name = "x"\n[links]\narticle = "(unclosed"', "links.article: bad regex"),
    ('name = "x"\n[fields]\ntitel = {css = "h1"}', "unknown field 'titel'"),
    ('name = "x"\n[fields]\ntitle = {selector = "h1"}', "fields.title: a rule needs one of"),
    ('name = "x"\n[fields]\ntitle = {css = "h1[unclosed"}', "fields.title: bad CSS selector"),
    ('name = "x"\n[fields]\ntitle = {xpath = "//h1[@x="}', "fields.title: bad XPath"),
    ('name = "x"\nremove = ["p::"]', "remove: bad CSS selector"),
    ('name = "x"\n[labels]\ncitation = "(unclosed"', "labels.citation: bad regex"),
    ('name = "x"\n[template]\nchrome_class = "[a-"', "template.chrome_class: bad regex"),
    ('name = "x"\n[newsletter]\npattern = "(x"', "newsletter.pattern: bad regex"),
    ('name = = "x"', "not a valid TOML profile"),
])
def test_a_bad_profile_is_one_error_line_naming_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArchiverError) as caught:
        load_profile_file(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    result = CliRunner().invoke(main, ["parse", str(BLANKETS), "--profile", str(path)])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith(f"error: {path}: ")


def test_an_extractor_is_a_function_a_profile_can_name(tmp_path):
    mine = tmp_path / "plugin.toml"
    mine.write_text('name = "plugin"\nextractor = "archiver.parse.rules:extract"\n', encoding="utf-8")
    assert get_profile(str(mine)).extractor is get_profile("noctua").extractor
    mine.write_text('name = "plugin"\nextractor = "nowhere.module:extract"\n', encoding="utf-8")
    with pytest.raises(ArchiverError, match="cannot be loaded"):
        get_profile(str(mine))


def test_the_defaults_file_is_not_a_profile():
    assert "defaults" not in builtin_names()
    assert get_profile("noctua").labels.citation.match("Review of: X")  # from defaults.toml


KESTREL_TOML = FIXTURES / "profiles" / "kestrel" / "kestrel.toml"
KESTREL_PAGE = FIXTURES / "pages" / "kestrel" / "kestrel-raptor-release.html"


def test_a_layered_profile_reads_its_own_vocabulary(tmp_path):
    # The golden file checks every field; here: that the TOML's words are what found them.
    article = parse_article(KESTREL_PAGE.read_bytes(), profile=str(KESTREL_TOML))
    assert article.provenance["authors"] == "template .kd-writers"
    assert article.provenance["published"] == "template .kd-when"
    assert article.study_type == "Prospective cohort with radio telemetry"
    assert "Share your telemetry" not in article.body  # its own chrome class
    plain = tmp_path / "plain.toml"  # the layered extractor with the defaults' words only
    plain.write_text('name = "plain"\nextractor = "layered"\n', encoding="utf-8")
    with_defaults = parse_article(KESTREL_PAGE.read_bytes(), profile=str(plain))
    assert with_defaults.study_type is None and with_defaults.newsletter is None
    assert with_defaults.provenance["authors"] != "template .kd-writers"


# ------------------------------------------------------------------ label vocabulary (parser)

def test_a_site_adds_to_a_general_label_under_labels_more(tmp_path):
    toml = tmp_path / "site.toml"
    toml.write_text('name = "site"\nextractor = "layered"\n[labels.more]\n'
                    'chrome_line = \'^Buy the Book$\'\narticle_types = ["Field Note"]\n', encoding="utf-8")
    labels = get_profile(str(toml)).labels
    assert labels.chrome_line.match("Buy the Book") and labels.chrome_line.match("Getting your Trinity Audio player ready...")
    assert labels.article_type("FIELD NOTE") == "Field Note" and labels.article_type("Editorial") == "Editorial"


def test_kinds_of_article_are_known_by_their_words():
    labels = get_profile("carlat").labels
    assert labels.article_type("Expert Q & A") == labels.article_type("EXPERT Q&A") == "Expert Q&A"
    assert labels.article_type("An ordinary sentence that is no kind at all") is None


def test_issue_urls_name_volume_number_and_newsletter():
    newsletters = get_profile("carlat").newsletters
    assert newsletters.issue_of_url("https://www.thecarlatreport.com/newsletter-issue/ccprv9n4/") == \
        ("The Carlat Child Psychiatry Report", "9", "4")
    assert newsletters.issue_of_url("https://www.thecarlatreport.com/issue/vol11-no1") == (None, "11", "1")
    assert newsletters.issue_of_url("https://www.thecarlatreport.com/articles/1-x") == (None, None, None)
