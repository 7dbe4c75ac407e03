"""The parser on pages of templates no fixture has, on non-article pages and on bad input."""

import json

import pytest

from archiver.errors import InputTooLarge, NotAnArticle
from archiver.parse import MAX_INPUT_BYTES, discover_links, parse_article, parse_capture
from archiver.record import Author, Capture

URL = "https://www.thecarlatreport.com/articles/4321-sleep-restriction-for-bipolar-depression"
PROSE = ("Invented sentence number {n} about a made-up trial keeps this page long enough to be read "
         "as real prose, with commas, clauses and a full stop.")


def prose(paragraphs: int = 4, start: int = 0) -> str:
    return "".join(f"<p>{' '.join(PROSE.format(n=start + i * 3 + k) for k in range(3))}</p>"
                   for i in range(paragraphs))


def html5_page(json_ld: dict | None = None, article_extra: str = "", body: str | None = None) -> str:
    """A redesign nobody here has seen: HTML5, BEM classes, JSON-LD in a @graph."""
    script = f'<script type="application/ld+json">{json.dumps(json_ld)}</script>' if json_ld else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sleep Restriction for Bipolar Depression — The Carlat Report</title>{script}</head>
<body><header class="site-head"><a href="/">Carlat</a><nav><a href="/newsletters/general-psychiatry">General</a></nav></header>
<main class="l-main"><div class="l-grid">
<article class="c-story">
  <h1 class="c-story__headline">Sleep Restriction for Bipolar Depression</h1>
  <p class="c-story__meta">By Ana Ruiz, MD, and Ben Okoro, PhD · <time datetime="2024-05-06">May 6, 2024</time></p>
  <div class="c-story__text">{body if body is not None else prose()}</div>
  {article_extra}
</article>
<div class="c-rail"><h2>In This Issue</h2><ul><li><a href="/articles/4320-one">One</a></li>
<li><a href="/articles/4321-sleep-restriction-for-bipolar-depression">Sleep Restriction for Bipolar Depression</a></li></ul>
<p>Issue Date: May 2024</p></div>
</div></main>
<footer><p>© Carlat Publishing</p></footer></body></html>"""


GRAPH = {"@context": "https://schema.org", "@graph": [
    {"@type": "WebSite", "name": "The Carlat Report"},
    {"@type": ["NewsArticle"], "headline": "Sleep Restriction for Bipolar Depression",
     "datePublished": "2024-05-06T08:00:00-04:00",
     "author": [{"@type": "Person", "name": "Ana Ruiz"}, {"@type": "Person", "name": "Ben Okoro", "honorificSuffix": "PhD"}],
     "articleSection": "General Psychiatry", "keywords": ["Bipolar Disorder", "Sleep"],
     "isPartOf": {"@type": "PublicationIssue", "name": "May 2024", "datePublished": "2024-05-01",
                  "isPartOf": {"@type": "Periodical", "name": "The Carlat Psychiatry Report"}}},
]}


def test_json_ld_redesign_fields_come_from_structured_data():
    article = parse_article(html5_page(GRAPH), url=URL)
    assert article.title == "Sleep Restriction for Bipolar Depression"
    assert article.published == "2024-05-06"
    assert article.category == "General Psychiatry"
    assert article.keywords == ["bipolar disorder", "sleep"]
    assert article.newsletter == "The Carlat Psychiatry Report"
    assert article.issue.title == "May 2024" and article.issue.date == "2024-05-01"
    # names from JSON-LD, credentials the JSON-LD lacks from the visible byline
    assert article.authors == [Author("Ana Ruiz", ["MD"]), Author("Ben Okoro", ["PhD"])]
    assert article.provenance["title"] == "json-ld headline"
    assert article.provenance["published"] == "json-ld datePublished"
    assert article.article_id == 4321


def test_the_same_redesign_without_json_ld_falls_back_to_markup_and_text():
    article = parse_article(html5_page(), url=URL)
    assert article.title == "Sleep Restriction for Bipolar Depression"
    assert article.authors == [Author("Ana Ruiz", ["MD"]), Author("Ben Okoro", ["PhD"])]
    assert article.published == "2024-05-06"
    assert [a.title for a in article.issue.articles] == ["One", "Sleep Restriction for Bipolar Depression"]
    assert article.issue.articles[0].url == "https://www.thecarlatreport.com/articles/4320-one"
    assert "keywords" in article.warnings and "disclosure" in article.warnings
    assert article.body.count("\n\n") == 3 and "Issue Date" not in article.body
    assert "©" not in article.body and "General" not in article.body


def test_labels_inside_the_body_become_fields_and_leave_the_body():
    body = ("<p><b>Review of:</b> Doe J et al, JAMA Psychiatry 2022;79(3):201–209. doi:10.1001/x.2022.1</p>"
            "<p>Type of study: Randomized, open-label trial</p>" + prose(3)
            + "<h3>CPR’s Take</h3>" + prose(1, 50)
            + "<p>Dr. Ruiz has disclosed no relevant financial relationships.</p>"
            + "<p>Keywords: bipolar disorder, sleep, chronotherapy</p>")
    article = parse_article(html5_page(body=body), url=URL)
    assert article.citation.journal == "JAMA Psychiatry" and article.citation.issue == "3"
    assert article.citation.doi == "10.1001/x.2022.1"
    assert article.study_type == "Randomized, open-label trial"
    assert article.disclosure == "Dr. Ruiz has disclosed no relevant financial relationships."
    assert article.keywords == ["bipolar disorder", "sleep", "chronotherapy"]
    assert "CPR’s Take" in article.body.split("\n\n")
    for gone in ("Review of", "Type of study", "has disclosed", "Keywords"):
        assert gone not in article.body


def test_lists_and_tables_are_lines_of_one_paragraph():
    body = prose(1) + "<ul><li>First item</li><li>Second <em>item</em></li></ul>" \
        + "<table><tr><th>Drug</th><th>Dose</th></tr><tr><td>Lithium</td><td>300 mg</td></tr></table>"
    article = parse_article(html5_page(body=body), url=URL)
    paragraphs = article.body.split("\n\n")
    assert paragraphs[1] == "First item\nSecond item"
    assert paragraphs[2] == "Drug | Dose\nLithium | 300 mg"


def test_hidden_elements_carousel_clones_and_share_boxes_are_not_text():
    extra = ('<div class="share-buttons"><a href="#">Share on Twitter</a></div>'
             '<p style="display: none">Hidden words</p><p hidden>Also hidden</p>'
             '<div class="slick-slide slick-cloned"><p>Cloned slide text that is long enough to matter</p></div>')
    article = parse_article(html5_page(article_extra=extra), url=URL)
    for gone in ("Share on Twitter", "Hidden words", "Also hidden", "Cloned slide"):
        assert gone not in article.body


def test_paywalled_teaser_keeps_only_the_visible_part():
    body = prose(1) + '<div class="paywall-prompt"><p>This article is available to subscribers only. ' \
        'Already a subscriber? Log in to read the full article.</p></div>'
    article = parse_article(html5_page(body=body), url=URL)
    assert article.paywalled
    assert "subscriber" not in article.body and article.word_count < 100


def test_full_article_is_not_paywalled():
    assert not parse_article(html5_page(), url=URL).paywalled


def test_densest_block_when_no_container_markup():
    page = ("<html><head><title>Lithium Levels in Older Adults | Carlat Publishing</title></head><body>"
            "<div id='top'><a href='/'>Home</a> <a href='/store'>Store</a></div>"
            "<table><tr><td class='left'><a href='/a'>Link A</a><br><a href='/b'>Link B</a></td>"
            f"<td class='right'><font size='4'><b>Lithium Levels in Older Adults</b></font><br>{prose(4)}</td></tr></table>"
            "</body></html>")
    article = parse_article(page, url=URL)
    assert article.title == "Lithium Levels in Older Adults"
    assert article.provenance["title"] == "<title> minus site name"
    assert article.body.startswith("Invented sentence number 0") and "Link A" not in article.body


def test_windows_1252_declared_in_meta_decodes_right():
    page = html5_page(body="<p>The “professional” view — that’s it.</p>" + prose(3))
    raw = page.replace('<meta charset="utf-8">', '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">').encode("cp1252")
    article = parse_article(raw, url=URL)
    assert article.body.startswith("The “professional” view — that’s it.")


@pytest.mark.parametrize("page,reason", [
    (html5_page(GRAPH).replace("NewsArticle", "CollectionPage"), "JSON-LD type"),
    ("<html><head><title>Page not found | Carlat</title></head><body><h1>Page not found</h1>"
     "<p>The page you asked for does not exist.</p></body></html>", "error page"),
    ("<html><head><title>Newsletters</title></head><body><h1>All newsletters</h1>"
     + "".join(f"<div class='teaser'><h2><a href='/articles/{n}-x'>Article {n}</a></h2><p>Short teaser of article {n}.</p></div>" for n in range(8))
     + "</body></html>", "listing"),
    ("<html><body><h1>Only a title</h1><p>Too short.</p></body></html>", "no article text"),
    ("<html><body><p>" + "words " * 200 + "</p></body></html>", "no title"),
])
def test_non_article_pages_say_why(page, reason):
    with pytest.raises(NotAnArticle, match=reason):
        parse_article(page)


def test_article_url_patterns_of_listing_and_issue_pages_are_not_articles():
    with pytest.raises(NotAnArticle, match="issue"):
        parse_article(html5_page(), url="https://www.thecarlatreport.com/newsletter-issue/tcprv42n5")


@pytest.mark.parametrize("data", [b"", b"   \n", "", b"\x00\x01\x02\x03" * 100, b"%PDF-1.4 binary",
                                  b"just some text, no markup at all"])
def test_empty_binary_and_markupless_input_is_not_an_article(data):
    with pytest.raises(NotAnArticle):
        parse_article(data)


def test_invalid_utf8_bytes_still_parse():
    raw = html5_page().encode("utf-8").replace(b"Invented sentence number 1 ", b"Invented \xff\xfe sentence number 1 ")
    article = parse_article(raw, url=URL)
    assert article.title == "Sleep Restriction for Bipolar Depression"


def test_input_over_the_cap_is_refused_before_parsing():
    with pytest.raises(InputTooLarge):
        parse_article(b" " * (MAX_INPUT_BYTES + 1))


def test_non_html_content_type_is_refused():
    with pytest.raises(NotAnArticle, match="application/pdf"):
        parse_article(html5_page(), url=URL, headers={"Content-Type": "application/pdf"})


def test_parse_capture_uses_the_captures_url_and_charset():
    page = html5_page(body="<p>Café “quoted”.</p>" + prose(3)).replace('<meta charset="utf-8">', "")
    capture = Capture(URL, 200, {"content-type": "text/html; charset=windows-1252"},
                      page.encode("cp1252"), "2026-11-28T00:00:00Z")
    article = parse_capture(capture)
    assert article.url == URL and article.body.startswith("Café “quoted”.")
    with pytest.raises(NotAnArticle, match="404"):
        parse_capture(Capture(URL, 404, {}, b"<html></html>", "2026-11-28T00:00:00Z"))


def test_discover_links_absolute_deduplicated_in_order_without_fragments():
    page = ('<html><body><a href="/articles/1-a#x">a</a><a href="mailto:x@y.z">m</a>'
            '<a href="newsletters/child-psychiatry?page=2">c</a><a href="/articles/1-a">again</a>'
            '<a href="javascript:void(0)">j</a><a href="https://twitter.com/x">t</a></body></html>')
    assert discover_links(page, "https://www.thecarlatreport.com/newsletters/") == [
        "https://www.thecarlatreport.com/articles/1-a",
        "https://www.thecarlatreport.com/newsletters/newsletters/child-psychiatry?page=2",
        "https://twitter.com/x"]
    assert discover_links(b"", "https://www.thecarlatreport.com/") == []


def test_source_newlines_are_spaces_and_br_makes_lines():
    body = prose(3) + "<p>A paragraph wrapped\n   in the page source\nkeeps one line.</p>" \
        + "<p>First line<br>second line</p><div>Old page text<br><br>after a double break</div>"
    paragraphs = parse_article(html5_page(body=body), url=URL).body.split("\n\n")
    assert "A paragraph wrapped in the page source keeps one line." in paragraphs
    assert "First line\nsecond line" in paragraphs
    assert paragraphs[-2:] == ["Old page text", "after a double break"]


DRUPAL7_PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1252" />
<title>Valproate in Women of Childbearing Age | The Carlat Report</title>
<meta name="keywords" content="valproate, pregnancy" />
</head><body class="html not-front page-node node-type-article">
<div id="page-wrapper"><div id="header"><h1 id="site-name"><a href="/" title="Home">The Carlat Report</a></h1>
<ul class="links primary-links"><li><a href="/newsletters/general-psychiatry">General Psychiatry</a></li><li><a href="/store">Store</a></li></ul></div>
<div id="main"><div id="content" class="column">
<div class="breadcrumb"><a href="/">Home</a> › Valproate</div>
<h2 class="node-title">Valproate in Women of Childbearing Age</h2>
<div id="node-881" class="node node-article clearfix">
<div class="meta"><span class="date">March 2012</span></div>
<div class="content clearfix">
<div class="field field-name-field-author field-type-text"><div class="field-items"><div class="field-item even">Jane Q. Roe, MD</div></div></div>
<div class="field field-name-body"><div class="field-items"><div class="field-item even">
<p><em>Jane Q. Roe, MD. Dr. Roe has disclosed that she has no relevant financial relationships.</em></p>
<p>Invented text about valproate follows here, long enough to be a real paragraph of an old newsletter article, with a few clauses and a full stop.
Another sentence that wraps in the source, and goes on to describe a made-up cohort of patients in some detail.</p>
<p>A second invented paragraph discusses counselling, folate and contraception in the same made-up way, adding words to pass the minimum.</p>
<p>A third invented paragraph explains what to do when a patient is already pregnant, again in invented words that say nothing real.</p>
</div></div></div>
<div class="field field-name-field-tags"><div class="field-label">Tags:&nbsp;</div><div class="field-items"><div class="field-item"><a href="/tags/valproate">Valproate</a></div><div class="field-item"><a href="/tags/pregnancy">Pregnancy</a></div></div></div>
</div>
<ul class="links inline"><li class="print_html first"><a href="/print/881" title="Display a printer-friendly version">Printer-friendly version</a></li><li class="comment_forbidden last"><span><a href="/user/login?destination=comment">Login</a> to post comments</span></li></ul>
</div></div>
<div id="sidebar-second" class="column sidebar"><div class="block"><h2>In This Issue</h2><div class="content"><div class="item-list"><ul><li><a href="/articles/880-a">Another Article</a></li><li><a href="/articles/881-valproate">Valproate in Women of Childbearing Age</a></li></ul></div></div></div></div>
</div><div id="footer">Copyright © 2012 Carlat Publishing</div></div></body></html>
"""


def test_an_older_drupal_layout_with_no_article_element():
    raw = DRUPAL7_PAGE.encode("cp1252")  # declared windows-1252 in its <meta>
    article = parse_article(raw, url="https://www.thecarlatreport.com/articles/881-valproate")
    assert article.title == "Valproate in Women of Childbearing Age"
    assert article.provenance["title"] == "<h2> heading"  # the logo <h1> is not the title
    assert article.authors == [Author("Jane Q. Roe", ["MD"])]
    assert article.published == "2012-03-01"  # "March 2012": the issue month
    assert article.keywords == ["valproate", "pregnancy"]
    assert article.disclosure == "Dr. Roe has disclosed that she has no relevant financial relationships."
    assert article.body.count("\n\n") == 2
    for chrome in ("Printer-friendly", "post comments", "Tags", "Another Article", "Copyright"):
        assert chrome not in article.body
    assert article.warnings == []


def test_authors_come_from_the_name_before_the_disclosure_when_no_byline_is_marked():
    body = "<p><strong>Ana Ruiz, MD.</strong> Dr. Ruiz has disclosed no relevant financial relationships.</p>" + prose(3)
    page = html5_page(body=body).replace("By Ana Ruiz, MD, and Ben Okoro, PhD · ", "")
    article = parse_article(page, url=URL)
    assert article.authors == [Author("Ana Ruiz", ["MD"])]
    assert article.provenance["authors"] == "name before the disclosure"
    assert article.disclosure == "Dr. Ruiz has disclosed no relevant financial relationships."


def test_displayed_keywords_win_over_json_ld_keywords():
    extra = '<div class="tags">Tags: <a href="/t/1">Bipolar-Disorder</a> <a href="/t/2">Sleep</a></div>'
    article = parse_article(html5_page(GRAPH, article_extra=extra), url=URL)
    assert article.keywords == ["bipolar-disorder", "sleep"]


REDESIGN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clozapine Rechallenge After Myocarditis – The Carlat Psychiatry Report</title>
<meta property="og:title" content="Clozapine Rechallenge After Myocarditis">
<meta property="og:url" content="https://www.thecarlatreport.com/articles/5001-clozapine-rechallenge-after-myocarditis?utm=x">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"Organization","name":"Carlat Publishing"},
{"@type":"WebPage","@id":"https://www.thecarlatreport.com/articles/5001"},
{"@type":"Article","headline":"Clozapine Rechallenge After Myocarditis","datePublished":"2025-02-03",
 "author":[{"@type":"Person","name":"Rosa Lind, MD"},{"@type":"Person","name":"Tom Ekwueme, PharmD, BCPP"}],
 "publisher":{"@type":"Organization","name":"Carlat Publishing"},
 "isPartOf":{"@type":"PublicationIssue","issueNumber":"2","datePublished":"2025-02-01","name":"February 2025",
   "isPartOf":{"@type":"Periodical","name":"The Carlat Psychiatry Report"}},
 "isAccessibleForFree":true}]}</script></head>
<body class="t-article">
<a class="skip" href="#main">Skip to content</a>
<header class="site-header"><div class="logo"><a href="/">The Carlat Report</a></div>
<nav aria-label="Primary"><ul><li><a href="/newsletters/general-psychiatry">General Psychiatry</a></li><li><a href="/cme">CME</a></li></ul></nav>
<form class="search" action="/search"><input name="q"><button>Search</button></form></header>
<main id="main">
<div class="layout">
<article class="article">
  <header class="article__header">
    <p class="article__kicker"><a href="/category/general-psychiatry">General Psychiatry</a></p>
    <h1 class="article__title">Clozapine Rechallenge After Myocarditis</h1>
    <p class="article__byline">Rosa Lind, MD, and Tom Ekwueme, PharmD, BCPP</p>
    <p class="article__date"><time datetime="2025-02-03">February 3, 2025</time></p>
    <ul class="share"><li><a href="#">Email</a></li><li><a href="#">Print</a></li></ul>
  </header>
  <div class="article__body">
    <p>Invented opening paragraph: clozapine is the one drug that works for many people with refractory schizophrenia, so stopping it for good after a bout of myocarditis is a heavy decision.</p>
    <h2>What the case series show</h2>
    <p>Invented second paragraph about made-up case series in which most rechallenges succeeded with slow titration and close monitoring of troponin and CRP.</p>
    <figure><img src="/x.png" alt="chart"><figcaption>Figure 1. Invented monitoring schedule.</figcaption></figure>
    <ol><li>Weekly troponin for the first month</li><li>CRP at the same visits</li></ol>
    <aside class="pullquote">Slow titration made the difference.</aside>
    <p>Invented third paragraph with the practical advice and a closing sentence that rounds things off nicely.</p>
  </div>
  <footer class="article__footer">
    <p class="article__disclosure">Dr. Lind and Dr. Ekwueme have disclosed no relevant financial relationships.</p>
    <div class="article__tags"><span>Tags:</span> <a href="/tags/clozapine">Clozapine</a> <a href="/tags/myocarditis">Myocarditis</a></div>
    <section class="related"><h3>Related</h3><ul><li><a href="/articles/4999-x">Another</a></li></ul></section>
  </footer>
</article>
<aside class="rail"><section><h2>In This Issue</h2><ul><li><a href="/articles/5000-a">Lead Article</a></li><li><a href="/articles/5001-clozapine-rechallenge-after-myocarditis">Clozapine Rechallenge After Myocarditis</a></li></ul><a href="/newsletter-issue/tcprv43n2">View the whole issue</a></section>
<section class="promo"><h2>Subscribe</h2><p>Get the newsletter every month and earn CME credits as you read.</p></section></aside>
</div></main>
<footer class="site-footer"><p>© 2025 Carlat Publishing</p></footer>
</body></html>
"""
REDESIGN_URL = "https://www.thecarlatreport.com/articles/5001-clozapine-rechallenge-after-myocarditis"


def test_html5_redesign_with_article_header_and_footer():
    article = parse_article(REDESIGN_PAGE, url=REDESIGN_URL)
    assert article.authors == [Author("Rosa Lind", ["MD"]), Author("Tom Ekwueme", ["PharmD", "BCPP"])]
    assert (article.published, article.category, article.newsletter) == (
        "2025-02-03", "General Psychiatry", "The Carlat Psychiatry Report")
    assert article.issue.url == "https://www.thecarlatreport.com/newsletter-issue/tcprv43n2"
    assert article.issue.title == "February 2025" and len(article.issue.articles) == 2
    assert article.keywords == ["clozapine", "myocarditis"]
    assert article.disclosure == "Dr. Lind and Dr. Ekwueme have disclosed no relevant financial relationships."
    paragraphs = article.body.split("\n\n")
    assert paragraphs[1] == "What the case series show"
    assert "Weekly troponin for the first month\nCRP at the same visits" in paragraphs
    for chrome in ("Email", "Slow titration", "Related", "Another", "Subscribe", "Skip to content"):
        assert chrome not in article.body
    assert not article.paywalled and article.warnings == []


def test_teaser_marked_only_by_json_ld_loses_its_subscription_box():
    gated = REDESIGN_PAGE.replace(
        '"isAccessibleForFree":true',
        '"isAccessibleForFree":false,"hasPart":{"@type":"WebPageElement","cssSelector":".article__locked"}')
    start, end = gated.index("<h2>What the case"), gated.index("</div>\n  <footer")
    gated = gated[:start] + ('<div class="gate"><h3>Keep reading with a subscription</h3>'
                             '<p>Subscribers get every article and CME credit.</p></div>') + gated[end:]
    article = parse_article(gated, url=REDESIGN_URL)
    assert article.paywalled
    assert article.body.startswith("Invented opening paragraph") and "\n\n" not in article.body


def test_footer_text_does_not_make_an_empty_listing_an_article():
    legal = " ".join(["Please see our terms and conditions, privacy policy and subscription agreement."] * 12)
    page = (f"<html><body class='one-sidebar sidebar-left'><div id='page'><h1>The Carlat Geriatric Psychiatry Report</h1>"
            f"<p>Updates on the mental health care of older adults.</p><p>No issues found.</p></div>"
            f"<footer><div class='footer-legal'><p>{legal}</p><p>© 2025 Carlat Publishing, LLC and Affiliates.</p></div></footer>"
            "</body></html>")
    with pytest.raises(NotAnArticle, match="no article text"):
        parse_article(page)


def test_lines_between_the_title_and_the_article_are_never_body():
    page = ("<html><body><div class='wrap'><h1>Sertraline Versus Escitalopram in Panic</h1>"
            "<div class='strip'>Try the Medication Fact Book app on your phone today</div>"
            "<p class='by'>Nell Ortiz, MD</p>"
            f"<div class='article-body'>{prose(4)}</div></div></body></html>")
    article = parse_article(page, url=URL)
    assert article.authors == [Author("Nell Ortiz", ["MD"])]
    assert article.body.startswith("Invented sentence number 0") and "Fact Book" not in article.body


def test_a_page_of_prose_without_any_article_marks_is_not_an_article():
    page = f"<html><head><title>About Us | Carlat Publishing</title></head><body><h1>About Us</h1>{prose(4)}</body></html>"
    with pytest.raises(NotAnArticle, match="no byline, date, keywords or newsletter"):
        parse_article(page, url="https://www.thecarlatreport.com/about-us")
    assert parse_article(page, url=URL).title == "About Us"  # an article URL says otherwise


def test_without_a_url_or_canonical_the_page_finds_itself_in_the_table_of_contents():
    article = parse_article(html5_page())  # no URL, no <link rel=canonical>
    assert article.url is None
    assert article.canonical_url == URL and article.article_id == 4321
    assert article.provenance["canonical_url"] == "table of contents entry with this title"


def test_a_page_wrapper_with_a_chrome_like_class_is_still_read():
    page = html5_page().replace("<main class=\"l-main\">", "<main class=\"l-main\"><div class=\"page menu-closed has-sidebar\">") \
        .replace("</main>", "</div></main>")
    article = parse_article(page, url=URL)
    assert article.title == "Sleep Restriction for Bipolar Depression" and article.word_count > 100


def test_volume_lines_breadcrumb_categories_topics_and_json_ld_entities():
    ld = {"@type": "Article", "headline": "Lithium &amp; the Kidney", "datePublished": "2024-05-06"}
    page = html5_page(ld, body=prose(3) + "<p>Topics: lithium, renal function</p>") \
        .replace("<main class=\"l-main\">", "<main class=\"l-main\"><div class=\"breadcrumb\"><a href=\"/\">Home</a> » "
                 "<a href=\"/category/general-psychiatry\">General Psychiatry</a></div>") \
        .replace("· <time", "· Volume 42, Number 5 · <time")
    article = parse_article(page, url=URL)
    assert article.title == "Lithium & the Kidney"
    assert article.category == "General Psychiatry" and article.provenance["category"] == "breadcrumb link"
    assert article.keywords == ["lithium", "renal function"]
    assert article.published == "2024-05-06" and "Volume" not in article.body


def test_parsing_from_several_threads_gives_the_same_records():
    from concurrent.futures import ThreadPoolExecutor

    pages = [html5_page(body=prose(4, start=n)) for n in range(8)]
    expected = [parse_article(page, url=URL) for page in pages]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda page: parse_article(page, url=URL), pages * 3)) == expected * 3


def test_label_words_inside_prose_are_not_labels():
    body = ("<p>Review of the literature shows that invented trials rarely agree with each other on much.</p>"
            "<p>Keywords matter when searching databases, and this invented paragraph says so at length.</p>"
            + prose(3))
    article = parse_article(html5_page(body=body), url=URL)
    assert article.citation is None and article.keywords == []
    assert article.body.startswith("Review of the literature") and "Keywords matter" in article.body


def test_a_short_item_with_a_byline_and_a_date_is_still_an_article():
    article = parse_article(html5_page(body="<p>" + " ".join(["Brief invented news item words."] * 7) + "</p>"), url=URL)
    assert 25 <= article.word_count < 60


# -- each paywall and disclosure rule alone (a test fails if that rule is removed) --------------

def test_a_paywall_box_known_only_by_its_markup_makes_a_teaser():
    # Its words match no prompt pattern: only the class says it is the paywall.
    body = prose(1) + '<div class="paywall"><p>Members continue here.</p><a href="/join">Join</a></div>'
    article = parse_article(html5_page(body=body), url=URL)
    assert article.paywalled and article.provenance["paywalled"] == "paywall markup"
    assert "Members continue" not in article.body


def test_a_teaser_known_only_by_its_json_ld_is_paywalled():
    # No paywall class, no prompt words: JSON-LD says the page is not free and its locked part
    # (".article__locked") is absent from the page.
    ld = dict(GRAPH, **{"@graph": [dict(GRAPH["@graph"][1], isAccessibleForFree=False,
                                        hasPart={"@type": "WebPageElement", "cssSelector": ".article__locked"})]})
    article = parse_article(html5_page(json_ld=ld, body=prose(1)), url=URL)
    assert article.paywalled
    assert article.provenance["paywalled"] == "json-ld isAccessibleForFree=false, paywalled part absent"
    present = html5_page(json_ld=ld, body=prose(1) + '<div class="article__locked">' + prose(1, 9) + "</div>")
    assert not parse_article(present, url=URL).paywalled  # the locked part is shown: a subscriber's page


def test_a_disclosure_known_only_by_its_label():
    # "reports royalties": no "disclosed", no "financial relationships": only the label says it.
    statement = "Dr. Ruiz receives royalties from an invented publisher of sleep diaries."
    article = parse_article(html5_page(body=prose() + f"<p>Disclosure: {statement}</p>"), url=URL)
    assert article.disclosure == statement
    assert "royalties" not in article.body
