"""Issues: an issue page's own record (`Archive.store_issue`) and tables of contents linked to
archived articles, whichever host served which page."""

import dataclasses

import pytest
from test_archive import SITE, make_article

from archiver.archive import Archive
from archiver.errors import ArchiverError
from archiver.record import Capture, Issue, IssueArticle

MIRROR = "http://127.0.0.1:8765"
NEWSLETTER = "The Carlat Psychiatry Report"


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "archive.db") as opened:
        yield opened


def issue_row(archive, issue_id):
    names = ("newsletter", "date", "title", "url", "volume", "number", "capture_id")
    row = archive.db.execute(
        "SELECT newsletters.name, date, title, url, volume, number, capture_id FROM issues "
        "LEFT JOIN newsletters ON newsletters.id = issues.newsletter_id WHERE issues.id = ?",
        [issue_id]).fetchone()
    return dict(zip(names, row))


def links(archive) -> dict[str, str | None]:
    """Each table-of-contents entry's URL -> the canonical URL of the article it links to."""
    return dict(archive.db.execute(
        "SELECT issue_articles.url, articles.canonical_url FROM issue_articles "
        "LEFT JOIN articles ON articles.id = issue_articles.article_id").fetchall())


def drupal_article(n: int, contents: list[IssueArticle], **changes):
    """An article page of the Drupal template: the issue's date and contents, no title or URL."""
    issue = Issue(date="2021-03-01", articles=contents)
    return make_article(n, issue=issue, newsletter=NEWSLETTER, **changes)


def issue_page(entries, **changes) -> Issue:
    values = dict(date="2021-03-01", title="Insomnia Update", url=f"{SITE}/newsletter-issue/tcprv19n3",
                  volume="19", number="3", articles=entries)
    values.update(changes)
    return Issue(**values)


def entries(*numbers, base=SITE):
    return [IssueArticle(f"Article {n}", f"{base}/articles/{n}-study-{n}") for n in numbers]


def test_an_issue_page_fills_in_the_issue_its_articles_made(archive):
    archive.load([drupal_article(n, entries(1, 2)) for n in (1, 2)])
    (issue_id,) = [r[0] for r in archive.db.execute("SELECT id FROM issues")]
    assert issue_row(archive, issue_id)["title"] is None and issue_row(archive, issue_id)["url"] is None
    capture_id = archive.add_capture(Capture(f"{SITE}/newsletter-issue/tcprv19n3", 200,
                                             {"content-type": "text/html"}, b"<html></html>",
                                             "2026-11-01T00:00:00Z"), profile="carlat")
    assert archive.store_issue(issue_page(entries(1, 2)), NEWSLETTER, capture_id) == issue_id
    assert archive.db["issues"].count == 1
    assert issue_row(archive, issue_id) == {
        "newsletter": NEWSLETTER, "date": "2021-03-01", "title": "Insomnia Update",
        "url": f"{SITE}/newsletter-issue/tcprv19n3", "volume": "19", "number": "3", "capture_id": capture_id}
    stored = archive.get_article(make_article(1).canonical_url)
    assert stored.issue.title == "Insomnia Update" and stored.issue.volume == "19"
    # The articles' own records did not change: storing them again is "unchanged".
    assert archive.load([drupal_article(n, entries(1, 2)) for n in (1, 2)]) == {"unchanged": 2}


def test_articles_arriving_after_their_issue_page_join_it(archive):
    issue_id = archive.store_issue(issue_page(entries(1, 2, 3)), NEWSLETTER)
    archive.store(drupal_article(1, entries(1, 2, 3)))
    archive.store(drupal_article(2, entries(1, 2, 3)))
    assert archive.db["issues"].count == 1
    assert {r[0] for r in archive.db.execute("SELECT issue_id FROM articles")} == {issue_id}
    assert issue_row(archive, issue_id)["title"] == "Insomnia Update"  # not overwritten by them


def test_an_issue_of_another_newsletter_on_the_same_date_is_another_issue(archive):
    archive.store(drupal_article(1, entries(1)))
    archive.store_issue(issue_page(entries(8), url=f"{SITE}/newsletter-issue/ccprv12n2"),
                        "The Carlat Child Psychiatry Report")
    assert archive.db["issues"].count == 2


def test_the_longer_table_of_contents_is_kept(archive):
    archive.store(drupal_article(1, entries(1, 2, 3, 4, 5)))
    archive.store_issue(issue_page(entries(1, 2, 3)), NEWSLETTER)  # a shorter one never replaces it
    assert len(archive.get_article(make_article(1).canonical_url).issue.articles) == 5
    archive.store_issue(issue_page(entries(1, 2, 3, 4, 5, 6)), NEWSLETTER)
    assert len(archive.get_article(make_article(1).canonical_url).issue.articles) == 6


def test_an_issue_page_is_found_again_by_its_url(archive):
    first = archive.store_issue(issue_page(entries(1)), NEWSLETTER)
    again = archive.store_issue(issue_page(entries(1), title="Insomnia Update (corrected)", date=None), None)
    assert first == again and archive.db["issues"].count == 1
    row = issue_row(archive, first)
    assert row["title"] == "Insomnia Update (corrected)" and row["date"] == "2021-03-01"
    assert row["newsletter"] == NEWSLETTER


def test_an_issue_without_url_or_date_is_refused(archive):
    with pytest.raises(ArchiverError, match="neither url nor date"):
        archive.store_issue(Issue(title="Somewhere"), NEWSLETTER)
    assert archive.db["issues"].count == 0


# -- links across hosts ------------------------------------------------------------------------

def mirror_article(n: int, contents):
    """An article page fetched from a mirror that declares no canonical link."""
    url = f"{MIRROR}/articles/{n}-study-{n}"
    return drupal_article(n, contents, url=url, canonical_url=None)


def record_mirror_capture(archive, n: int, profile: str | None = "carlat") -> int:
    return archive.add_capture(Capture(f"{MIRROR}/articles/{n}-study-{n}", 200,
                                       {"content-type": "text/html"}, f"<p>{n}</p>".encode(),
                                       "2026-11-01T00:00:00Z"), profile=profile)


def test_contents_naming_the_real_site_link_the_articles_of_its_mirror(archive):
    # The reported case: the issue page links https://www.thecarlatreport.com/articles/12-x,
    # the archived article is http://127.0.0.1:8765/articles/12-x.
    for n in (1, 2):
        archive.store(mirror_article(n, []), capture_id=record_mirror_capture(archive, n))
    archive.store_issue(issue_page(entries(1, 2, 3)), NEWSLETTER)
    assert links(archive) == {f"{SITE}/articles/1-study-1": f"{MIRROR}/articles/1-study-1",
                              f"{SITE}/articles/2-study-2": f"{MIRROR}/articles/2-study-2",
                              f"{SITE}/articles/3-study-3": None}
    # ... and an article that arrives later is linked then.
    archive.store(mirror_article(3, []), capture_id=record_mirror_capture(archive, 3))
    assert links(archive)[f"{SITE}/articles/3-study-3"] == f"{MIRROR}/articles/3-study-3"


def test_contents_naming_the_mirror_link_articles_of_the_real_site(archive):
    # The demo: pages fetched from the mirror link the mirror; canonical URLs are the site's.
    contents = entries(1, 2, base=MIRROR)
    archive.load([drupal_article(n, contents, url=f"{MIRROR}/articles/{n}-study-{n}") for n in (1, 2)])
    assert links(archive) == {f"{MIRROR}/articles/1-study-1": f"{SITE}/articles/1-study-1",
                              f"{MIRROR}/articles/2-study-2": f"{SITE}/articles/2-study-2"}


@pytest.mark.parametrize("listed", ["https://thecarlatreport.com/articles/1-study-1",
                                    "http://www.thecarlatreport.com/articles/1-study-1"])
def test_the_same_site_with_or_without_www_and_over_http(archive, listed):
    archive.store(drupal_article(1, [IssueArticle("Article 1", listed)]))
    assert links(archive) == {listed: f"{SITE}/articles/1-study-1"}


def test_the_same_path_on_another_site_is_not_linked(archive):
    # 127.0.0.1:9999 served nothing read with a profile: it is nobody's mirror.
    stranger = dataclasses.replace(make_article(1), url="http://127.0.0.1:9999/articles/1-study-1",
                                   canonical_url="http://127.0.0.1:9999/articles/1-study-1", issue=None)
    archive.store(stranger, capture_id=record_mirror_capture(archive, 5, profile=None))
    archive.store_issue(issue_page(entries(1)), NEWSLETTER)
    assert links(archive) == {f"{SITE}/articles/1-study-1": None}
    noctua = "https://www.noctualetter.org/articles/1-study-1"  # another profile's host
    archive.store_issue(issue_page([IssueArticle("A letter", noctua)], url=f"{SITE}/newsletter-issue/x"),
                        NEWSLETTER)
    archive.store(mirror_article(1, []), capture_id=record_mirror_capture(archive, 1))
    assert links(archive)[noctua] is None
    assert links(archive)[f"{SITE}/articles/1-study-1"] == f"{MIRROR}/articles/1-study-1"


def test_the_exact_url_wins_over_the_same_path_elsewhere(archive):
    archive.store(mirror_article(1, []), capture_id=record_mirror_capture(archive, 1))
    archive.store(make_article(1, issue=None))  # the real site's copy, also archived
    archive.store_issue(issue_page(entries(1)), NEWSLETTER)
    assert links(archive) == {f"{SITE}/articles/1-study-1": f"{SITE}/articles/1-study-1"}


def test_a_crawl_of_the_demo_mirror_links_every_listed_article_it_archived(tmp_path):
    from test_archive_reparse import FIXTURES, crawl_into

    db = tmp_path / "archive.db"
    crawl_into(db, FIXTURES / "site")
    with Archive(db, read_only=True) as archive:
        listed, linked, archived = archive.db.execute(
            "SELECT count(*), count(article_id), count(DISTINCT article_id) FROM issue_articles").fetchone()
        crawled = {url for (url,) in archive.db.execute("SELECT url FROM articles")}
        listed_and_crawled = archive.db.execute(
            "SELECT count(*) FROM issue_articles WHERE url IN (SELECT url FROM articles)").fetchone()[0]
    assert listed >= 10 and crawled
    assert linked == listed_and_crawled == listed  # the mirror lists only pages it has
