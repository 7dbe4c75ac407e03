"""The lines around an article's text, on pages of plain markup (no class names, as the real site's
markup is unknown): header lines of every era, bio boxes, disclosures, chrome lines, Q&A turns,
kinds of article, tables of contents in other markup."""

import pytest

from archiver.parse import parse_article
from archiver.record import Author

URL = "https://www.thecarlatreport.com/articles/4500-an-invented-article"
TEXT = ("Invented paragraph {n} describes a made-up clinic where patients and clinicians try a new approach, "
        "and it goes on long enough to read as the real text of an article, with clauses and a full stop.")


def paragraphs(count: int = 4, start: int = 0) -> str:
    return "".join(f"<p>{TEXT.format(n=start + i)}</p>" for i in range(count))


def plain_page(header: str, body: str | None = None, above_title: str = "", after: str = "",
               title: str = "An Invented Article") -> str:
    """A page of plain elements: menus, the article's lines in one <div>, a sidebar, a footer."""
    return f"""<html><head><title>{title} | CARLAT PUBLISHING</title></head><body>
<div><ul><li><a href="/">Home</a></li><li><a href="/store">Store</a></li><li><a href="/newsletters/1">General Psychiatry</a></li></ul></div>
<div>
<p><a href="/">Home</a> » {title}</p>
{above_title}
<h1>{title}</h1>
{header}
{body if body is not None else paragraphs()}
{after}
</div>
<div><p>Issue Date: May 1, 2024</p><p><a href="/subscribe">SUBSCRIBE NOW</a></p></div>
<div><p>© 2025 Carlat Publishing, LLC</p></div>
</body></html>"""


# ------------------------------------------------------------------ disclosures

@pytest.mark.parametrize("lines,statement", [
    (["Dr. Lee has disclosed that he has no relevant financial or other interests in any commercial companies pertaining to this educational activity."], None),
    (["Dr. Lee has no financial relationships with companies related to this material."], None),
    (["Drs. Lee and Ruiz have no financial relationships with companies related to this material."], None),
    (["Dr. Lee is cofounder and consultant for Invented Health. Dr. Ruiz has reviewed this educational activity and has determined that there is no commercial bias as a result of this financial relationship."], None),
    (["Dr. Lee has disclosed that he receives income from Invented Press. This article was reviewed by the associate editor, Dr. Ruiz, who has concluded that there is no evidence of commercial bias in this article."], None),
    (["Dr. Lee reports no financial relationships with companies related to this material."], None),
    # over two paragraphs: the relationship, then the reviewer's sentence
    (["Dr. Lee is a speaker for Invented Pharma.", "Dr. Ruiz, the associate editor, has reviewed this article and found no evidence of commercial bias."],
     "Dr. Lee is a speaker for Invented Pharma. Dr. Ruiz, the associate editor, has reviewed this article and found no evidence of commercial bias."),
])
def test_every_disclosure_form_is_the_disclosure_and_never_body(lines, statement):
    header = "<p>Sam Lee, MD</p>" + "".join(f"<p>{line}</p>" for line in lines)
    article = parse_article(plain_page(header), url=URL)
    assert article.disclosure == (statement or lines[0])
    assert article.body.startswith("Invented paragraph 0")
    for line in lines:
        assert line not in article.body


def test_the_name_and_affiliation_in_front_of_a_disclosure_are_not_part_of_it():
    header = ("<p>Sam Lee, MD</p><p>Sam Lee, MD. Professor of Psychiatry, Invented University. "
              "Dr. Lee has no financial relationships with companies related to this material.</p>")
    article = parse_article(plain_page(header), url=URL)
    assert article.disclosure == "Dr. Lee has no financial relationships with companies related to this material."
    assert article.authors == [Author("Sam Lee", ["MD"], "Professor of Psychiatry, Invented University.")]


def test_prose_about_industry_money_stays_in_the_body():
    body = ("<p>Studies of doctors and their financial relationships with drug makers find that industry "
            "payments shape prescribing, and this invented paragraph goes on about that at some length.</p>"
            + paragraphs(3))
    article = parse_article(plain_page("<p>Sam Lee, MD</p><p>May 6, 2024</p>", body), url=URL)
    assert article.body.startswith("Studies of doctors") and article.disclosure is None


# ------------------------------------------------------------------ bio boxes

def test_a_bio_box_in_separate_paragraphs_gives_the_affiliation_and_no_body():
    header = ("<p>November 1, 2024</p><p>Ada Okoro, MBBS, PhD</p><p>From The Carlat Psychiatry Report</p>"
              "<p>Ada Okoro, MBBS, PhD</p><p>Associate Professor of Psychiatry, Invented State University; author of "
              "<em>An Invented Book</em>.</p><p>Dr. Okoro has no financial relationships with companies related to this material.</p>"
              "<p><a href='/ext/resources/x.pdf'>PDF</a></p><p>Getting your Trinity Audio player ready...</p>")
    article = parse_article(plain_page(header), url=URL)
    assert article.authors == [Author("Ada Okoro", ["MBBS", "PhD"],
                                      "Associate Professor of Psychiatry, Invented State University; author of An Invented Book.")]
    assert article.provenance["authors.affiliation"] == "bio box paragraph"
    assert article.body.startswith("Invented paragraph 0")
    assert "Trinity" not in article.body and "PDF" not in article.body and "Invented State" not in article.body


def test_two_bio_boxes_are_matched_to_their_authors_by_name():
    header = ("<p>Ana Ruiz, MD, and Ben Okoro, PharmD</p>"
              "<p>Ana Ruiz, MD</p><p>Attending physician, Invented General Hospital.</p>"
              "<p>Ben Okoro, PharmD</p><p>Clinical pharmacist, Invented General Hospital.</p>"
              "<p>Drs. Ruiz and Okoro have no financial relationships with companies related to this material.</p>")
    article = parse_article(plain_page(header), url=URL)
    assert [(a.name, a.affiliation) for a in article.authors] == [
        ("Ana Ruiz", "Attending physician, Invented General Hospital."),
        ("Ben Okoro", "Clinical pharmacist, Invented General Hospital.")]


def test_a_role_line_under_the_byline_is_no_body_and_the_affiliation_when_no_bio_box_says_more():
    header = "<p>By Elise Carrow, MD<br>Editor-in-Chief, The Carlat Child Psychiatry Report</p><p>June 1, 2025</p>"
    article = parse_article(plain_page(header), url=URL)
    assert article.authors == [Author("Elise Carrow", ["MD"], "Editor-in-Chief, The Carlat Child Psychiatry Report")]
    assert article.provenance["authors.affiliation"] == "role line under the byline"
    assert "Editor-in-Chief" not in article.body and article.newsletter is None


# ------------------------------------------------------------------ header lines of every era

def test_a_volume_line_gives_newsletter_volume_number_and_the_month():
    header = "<p>The Carlat Psychiatry Report, Volume 1, Number 8, August 2003</p><p>By Ellis Marchetti, MD</p>"
    article = parse_article(plain_page(header), url=URL)
    assert (article.newsletter, article.issue.volume, article.issue.number) == ("The Carlat Psychiatry Report", "1", "8")
    assert article.published == "2003-08-01" and article.issue.date == "2003-08-01"
    assert article.authors == [Author("Ellis Marchetti", ["MD"])]
    assert "Volume" not in article.body


def test_several_fields_packed_on_one_line_with_labels_and_two_digit_years():
    header = "<p>Date Posted: 01/16/13 | Issue: January, 2013 | The Carlat Psychiatry Report</p><p>By Owen Fairbanks, MD</p>"
    article = parse_article(plain_page(header), url=URL)
    assert (article.published, article.issue.date, article.newsletter) == (
        "2013-01-16", "2013-01-01", "The Carlat Psychiatry Report")
    assert article.provenance["published"] == "label published"
    assert "Date Posted" not in article.body


@pytest.mark.parametrize("dates", [
    ["<p>Submitted by admin on Mon, 02/11/2013 - 09:42</p>", "<p>Published On: January 1, 2013</p>"],
    ["<p>Published On: January 1, 2013</p>", "<p>Submitted by admin on Mon, 02/11/2013 - 09:42</p>"],
    ["<p>Monday, February 11, 2013</p>", "<p>Published On: January 1, 2013</p>"],
])
def test_a_date_labelled_published_beats_a_submitted_or_unlabelled_one_in_any_order(dates):
    article = parse_article(plain_page("<p>By Nadia Holt, MD</p>" + "".join(dates)), url=URL)
    assert article.published == "2013-01-01"
    assert article.body.startswith("Invented paragraph 0")  # no date line is ever body


@pytest.mark.parametrize("line,iso", [
    ("Monday, June 14, 2021", "2021-06-14"), ("Oct 16, 2023", "2023-10-16"), ("February 20th , 2020", "2020-02-20"),
    ("10/18/20", "2020-10-18"), ("Posted on March 3rd, 2019", "2019-03-03")])
def test_dates_of_every_form_under_the_title(line, iso):
    article = parse_article(plain_page(f"<p>By Nadia Holt, MD</p><p>{line}</p>"), url=URL)
    assert article.published == iso and line not in article.body


def test_labels_are_never_part_of_their_values():
    header = "<p>By Nadia Holt, MD</p><p>May 6, 2024</p><p>Category: Child Psychiatry</p>"
    article = parse_article(plain_page(header), url=URL)
    assert article.category == "Child Psychiatry"


def test_topics_under_the_title_are_keywords_and_the_article_goes_on():
    header = ("<p>The Carlat Psychiatry Report, Volume 16, Number 1, January 2018</p>"
              "<p>Topics: <a href='/tag/depression/'>Depression</a> | <a href='/tag/light-therapy/'>Light Therapy</a></p>"
              "<p>Talia Brennan, MD</p>")
    article = parse_article(plain_page(header), url="https://www.thecarlatreport.com/the-carlat-psychiatry-report/x/")
    assert article.keywords == ["depression", "light therapy"]
    assert article.body.startswith("Invented paragraph 0") and article.word_count > 100


def test_the_previous_eras_paywall_prompt_ends_the_teaser():
    body = paragraphs(1) + "<p>You can't view details of this content, please <a href='/login'>login</a> or buy subscription <a href='/s'>here</a></p>"
    article = parse_article(plain_page("<p>By Rhea Castellanos, MD</p><p>June 1, 2018</p>", body), url=URL)
    assert article.paywalled and article.body == TEXT.format(n=0)


# ------------------------------------------------------------------ kinds of article

def test_a_kind_label_above_the_title():
    article = parse_article(plain_page("<p>By Sam Lee, MD</p><p>May 6, 2024</p>", above_title="<p>Research Update</p>"), url=URL)
    assert article.article_type == "Research Update"
    assert article.provenance["article_type"] == "kind label above the title" and "Research Update" not in article.body


@pytest.mark.parametrize("title,url,kind,how", [
    ("Expert Q&A: An Invented Interview", URL, "Expert Q&A", "title prefix"),
    ("CME Post-Test - Invented Topics, TCPR, May 2024", URL, "CME Post-Test", "title prefix"),
    ("An Invented Article", "https://www.thecarlatreport.com/articles/4500-clinical-update-an-invented-article", "Clinical Update", "URL slug"),
    ("An Invented Article", URL, None, None),
])
def test_the_kind_from_the_titles_or_the_urls_first_words(title, url, kind, how):
    article = parse_article(plain_page("<p>By Sam Lee, MD</p><p>May 6, 2024</p>", title=title), url=url)
    assert article.article_type == kind and article.provenance.get("article_type") == how


# ------------------------------------------------------------------ chrome lines and Q&A turns

def test_widgets_captions_credits_and_interviewer_lines_are_chrome():
    body = ("<p>Interviewed by Joanna Pike, MD</p><p>Access Purchased Content</p>"
            "<p><img src='/x.jpg' alt='x.jpg'>Dr. Lee in an invented clinic.</p><p>Photo courtesy of Invented Hospital</p>"
            "<p>Image credit: Invented Stock</p><figure><img src='/y.jpg'><figcaption>An invented caption.</figcaption></figure>"
            "<p>Listen to this article</p><video src='/v.mp4'>Your browser does not support the video tag.</video>"
            + paragraphs(3))
    article = parse_article(plain_page("<p>By Sam Lee, MD</p><p>May 6, 2024</p>", body), url=URL)
    assert article.body.startswith("Invented paragraph 0") and article.body.count("\n\n") == 2


def test_a_speaker_alone_on_its_line_leads_the_next_paragraph():
    turns = ("<p><strong>CCPR:</strong></p><p>How do you start, in this invented interview with its invented guest?</p>"
             "<p><strong>Dr. Obi:</strong></p><p>With the parents, in invented words that go on for a while to make a real answer.</p>")
    article = parse_article(plain_page("<p>By Hannah Obi, MD</p><p>June 14, 2021</p>", turns + paragraphs(2)), url=URL)
    assert article.body.split("\n\n")[:2] == [
        "CCPR: How do you start, in this invented interview with its invented guest?",
        "Dr. Obi: With the parents, in invented words that go on for a while to make a real answer."]


def test_a_long_list_of_links_is_a_menu_not_body():
    menu = "<p>Browse by Topic</p><ul>" + "".join(f"<li><a href='/tag/t{n}/'>Topic {n}</a></li>" for n in range(12)) + "</ul>"
    article = parse_article(plain_page("<p>By Sam Lee, MD</p><p>May 6, 2024</p>", after=menu), url=URL)
    assert "Topic 3" not in article.body


# ------------------------------------------------------------------ tables of contents in other markup

@pytest.mark.parametrize("toc", [
    "<div>Table Of Contents</div><div><a href='/articles/1-one'>One</a></div><div><a href='/articles/2-two'>Two</a></div>"
    "<div><a href='/x.pdf'>DOWNLOAD NOW</a></div><div>Featured Book</div><ul><li><a href='/store/b'>A Book</a></li></ul>",
    "<p><b>In this issue</b><br><a href='/articles/1-one'>One</a><br><a href='/articles/2-two'>Two</a></p>"
    "<p><a href='/user/login'>Log in</a> | <a href='/user/register'>Create account</a></p>",
    "<nav aria-label='This issue'><h2>In This Issue</h2><ol><li><a href='/articles/1-one'>One</a></li>"
    "<li><a href='/articles/2-two'>Two</a></li></ol></nav>",
])
def test_a_table_of_contents_in_any_markup_ends_where_its_entries_end(toc):
    page = plain_page("<p>By Sam Lee, MD</p><p>May 6, 2024</p>").replace("<div><p>Issue Date", f"<div>{toc}<p>Issue Date")
    article = parse_article(page, url=URL)
    assert [(a.title, a.url.rsplit("/", 1)[-1]) for a in article.issue.articles] == [("One", "1-one"), ("Two", "2-two")]


# ------------------------------------------------------------------ provenance names the rule

def test_provenance_names_the_rule_not_one_profiles_words():
    from pathlib import Path
    profile = Path(__file__).parent / "fixtures" / "profiles" / "kestrel" / "kestrel.toml"
    page = ("<html><body><h1>A Kestrel Note</h1><p>By Ana Ruiz, MD</p><p>May 6, 2024</p>"
            "<p>Paper: Doe J et al, Invented J Birds 2022;3:1–9</p><p>Design: Field study</p>" + paragraphs(3) + "</body></html>")
    article = parse_article(page, url="https://kestreldispatch.example/d/7-a-kestrel-note", profile=str(profile))
    assert article.citation.journal == "Invented J Birds"
    assert (article.provenance["citation"], article.provenance["study_type"]) == ("label citation", "label study_type")
