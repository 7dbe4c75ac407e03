"""Whitespace, dates, bylines and citation strings."""

import pytest

from archiver.parse.text import (collapse, credential, find_date, is_date_line, parse_citation,
                                 parse_date, split_byline, word_count)
from archiver.record import Author


def test_collapse_keeps_the_page_characters_and_squeezes_whitespace():
    assert collapse("  Ketamine’s\n\t “rapid”\u00a0effect —\u200b  done…  ") == "Ketamine’s “rapid” effect — done…"
    assert collapse(None) == ""


def test_word_count_counts_whitespace_tokens():
    assert word_count("One two—three.\n\nFour | five") == 5
    assert word_count("") == 0


@pytest.mark.parametrize("text,iso", [
    ("January 1, 2019", "2019-01-01"), ("Jan 1, 2019", "2019-01-01"), ("Jan. 1, 2019", "2019-01-01"),
    ("Sept 3, 2020", "2020-09-03"), ("September 3rd, 2020", "2020-09-03"), ("2019-01-01", "2019-01-01"),
    ("2019-01-01T12:00:00Z", "2019-01-01"), ("01/01/2019", "2019-01-01"), ("12/31/2020", "2020-12-31"),
    ("1 February 2020", "2020-02-01"), ("Published On: March 5, 2021", "2021-03-05"),
    ("February 20th , 2020", "2020-02-20"), ("10/18/20", "2020-10-18"), ("12/31/99", "1999-12-31"),
    ("Monday, June 14, 2021", "2021-06-14"), ("Oct 16, 2023", "2023-10-16"),
    ("Mon, 02/11/2013 - 09:42", "2013-02-11"),
])
def test_dates_become_iso(text, iso):
    assert parse_date(text) == iso


def test_impossible_or_missing_dates_are_none():
    assert parse_date("February 30, 2019") is None
    assert parse_date("v1.2.34") is None and parse_date("12-31-99") is None  # two-digit years only with "/"
    assert parse_date("no date here") is None
    assert parse_date(None) is None


def test_a_month_is_a_date_only_when_asked():
    assert parse_date("January 2019") is None
    assert parse_date("January 2019", month_only=True) == "2019-01-01"
    assert parse_date("January, 2013", month_only=True) == "2013-01-01"


def test_find_date_takes_the_first_date_in_a_sentence():
    assert find_date("Posted May 2, 2020, updated 2021-01-01") == "2020-05-02"


def test_date_lines():
    assert is_date_line("January 1, 2019")
    assert is_date_line("Published on: Tue, January 1, 2019")
    assert not is_date_line("On January 1, 2019 the FDA approved a new drug.")
    assert is_date_line("Monday, June 14, 2021") and is_date_line("10/18/20")
    assert not is_date_line("Talia Brennan, MD")


@pytest.mark.parametrize("byline,authors", [
    ("Michael Posternak, MD.", [Author("Michael Posternak", ["MD"])]),
    ("Dr. Jane Roe, MD, PhD", [Author("Jane Roe", ["MD", "PhD"])]),
    ("Ann Lee, MD, Bob Stone, PhD, and Cara Diaz, DNP, PMHNP-BC",
     [Author("Ann Lee", ["MD"]), Author("Bob Stone", ["PhD"]), Author("Cara Diaz", ["DNP", "PMHNP-BC"])]),
    ("By Victor Salgado, MD and Lena Fischer, PA-C",
     [Author("Victor Salgado", ["MD"]), Author("Lena Fischer", ["PA-C"])]),
    ("Naomi Feld, PhD. Chris Aldana, MD.", [Author("Naomi Feld", ["PhD"]), Author("Chris Aldana", ["MD"])]),
    ("Kathryn Gaines, M.D., FAPA", [Author("Kathryn Gaines", ["MD", "FAPA"])]),
    ("Jane Roe MD PhD", [Author("Jane Roe", ["MD", "PhD"])]),
    ("Sam Ortiz, LICSW, CADC-II", [Author("Sam Ortiz", ["LICSW", "CADC-II"])]),  # unknown: shape rule
    ("Ruth Okafor", [Author("Ruth Okafor", [])]),
])
def test_bylines_split_into_authors_with_credentials(byline, authors):
    assert split_byline(byline) == authors


def test_credential_tokens():
    assert credential("M.D.") == "MD"
    assert credential("phd") == "PhD"
    assert credential("FAACAP") == "FAACAP"
    assert credential("Smith") is None
    assert credential("Jr.") is None


def test_the_seed_citation():
    c = parse_citation("Williams NR et al, Am J Psychiatry 2018;175:1–11")
    assert (c.text, c.authors, c.journal, c.year, c.volume, c.issue, c.pages, c.doi, c.pmid) == (
        "Williams NR et al, Am J Psychiatry 2018;175:1–11", "Williams NR et al", "Am J Psychiatry",
        2018, "175", None, "1–11", None, None)


def test_citation_with_issue_number_and_doi():
    c = parse_citation("Review of: Smith AB et al, JAMA Psychiatry 2020;77(4):345–352. doi:10.1001/jamapsychiatry.2019.4321")
    assert (c.journal, c.year, c.volume, c.issue, c.pages, c.doi) == (
        "JAMA Psychiatry", 2020, "77", "4", "345–352", "10.1001/jamapsychiatry.2019.4321")
    assert c.text.startswith("Smith AB")


@pytest.mark.parametrize("text,doi", [
    ("Roe J et al, N Engl J Med 2019; 380(1): 1-10, https://doi.org/10.1056/NEJMoa1234567", "10.1056/NEJMoa1234567"),
    ("Roe J et al, Lancet 2019;393:1-9. DOI: 10.1016/S0140-6736(19)30001-2.", "10.1016/S0140-6736(19)30001-2"),
])
def test_doi_forms(text, doi):
    assert parse_citation(text).doi == doi


def test_online_first_citation_takes_the_year_of_publication_online():
    c = parse_citation("Doe J et al, JAMA Psychiatry. Published online May 3, 2021. doi:10.1001/jamapsychiatry.2021.0001")
    assert (c.authors, c.journal, c.year, c.volume, c.pages) == ("Doe J et al", "JAMA Psychiatry", 2021, None, None)


def test_pmid_and_vancouver_authors():
    c = parse_citation("Lee K, Park S. Effects of light on mood. J Clin Psychiatry 2019;80(2):18m12345. PMID: 30840787")
    assert (c.authors, c.journal, c.pages, c.pmid) == ("Lee K, Park S", "J Clin Psychiatry", "18m12345", "30840787")


def test_empty_citation_is_none():
    assert parse_citation("Review of:") is None


def test_credentials_always_have_two_capitals_close_together():
    from archiver.parse.text import KNOWN_CREDENTIALS, may_have_credentials
    assert all(may_have_credentials(c) for c in KNOWN_CREDENTIALS.values())
    assert may_have_credentials("M.D.") and may_have_credentials("Ph.D.")
    assert not may_have_credentials("Featured Book") and not may_have_credentials("Research Update")


def test_by_with_a_colon():
    assert split_byline("By: Ann Lee, MD") == [Author("Ann Lee", ["MD"])]
