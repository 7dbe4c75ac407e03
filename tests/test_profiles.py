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
