"""What each table and column is for: the text of datasette-metadata.json (generated from
here, tested to be current) and the tables docs/analysts.md must describe."""

from __future__ import annotations

import base64
import re
from html import escape
from importlib import resources

# Short on purpose: Datasette shows them above each table's rows.
TABLE_DESCRIPTIONS = {
    "articles": "One row per article, keyed by its canonical URL: its current values, the cited "
                "study as citation_* columns, when it was first and last seen.",
    "authors": "Each distinct author name, with the credentials and affiliation most recently "
               "printed with it.",
    "article_authors": "Who wrote each article, in byline order, with the credentials and "
                       "affiliation printed on that article.",
    "keywords": "Each distinct keyword (topic tag) used by the site.",
    "article_keywords": "The keywords of each article, in page order.",
    "newsletters": "The newsletters (publications) the articles appeared in.",
    "issues": "Newsletter issues: date, title, volume and number, the issue page's URL.",
    "issue_articles": "Each issue's table of contents, in order; article_id links the entries "
                      "that are archived.",
    "article_versions": "Earlier values of articles that changed on a re-crawl or re-parse, "
                        "as whole records.",
    "captures": "Every page fetched, kept raw (with the site profile that read it), so the "
                "archive can be re-parsed without the network.",
    "capture_bodies": "The raw response bodies, zlib-compressed, stored once per distinct SHA-256.",
    "articles_fts": "The full-text index over titles, bodies, disclosures, citations, authors, "
                    "affiliations and keywords.",
    "articles_flat": "One row per article with newsletter, issue, authors and keywords as "
                     "readable text: for spreadsheets and quick SQL.",
    "crawl_queue": "The crawler's to-do list: every URL ever queued, its state and the "
                   "validators for the next conditional request.",
    "crawl_runs": "One row per crawl run, with its report.",
}

COLUMN_DESCRIPTIONS = {
    "articles": {
        "canonical_url": "The article's canonical URL (unique); urn:sha256:... for a record "
                         "loaded without any URL.",
        "url": "The URL the current values were fetched from.",
        "site_article_id": "The site's own article number.",
        "published": "Publication date, YYYY-MM-DD.",
        "category": "The site's section label.",
        "article_type": "The kind of article as the page names it (Expert Q&A, Research Update...).",
        "study_type": "The 'Type of study:' line of research reviews, as printed.",
        "citation_text": "The full reference of the study the article reviews.",
        "authors_text": "Author names in byline order, joined with '; '.",
        "affiliations_text": "The authors' affiliations in byline order, joined with '; '.",
        "keywords_text": "Keywords, joined with '; '.",
        "paywalled": "1 when only a teaser was visible: the body is incomplete.",
        "content_sha256": "Hash of the content; a re-crawl compares it to decide 'changed'.",
        "first_seen": "When the article was first fetched (UTC).",
        "last_seen": "When the article was last fetched (UTC).",
        "capture_id": "The fetched page the current values were parsed from.",
    },
    "issues": {
        "date": "Issue date, YYYY-MM-DD.",
        "title": "The issue's title, from its page.",
        "url": "The issue page's URL (unique).",
        "volume": "Volume, as printed (e.g. 16 of 'Volume 16, Number 1').",
        "number": "Number within the volume, as printed.",
        "capture_id": "The issue page these values were read from.",
    },
    "captures": {
        "url": "The final URL, after redirects.",
        "fetched_at": "When it was fetched (UTC).",
        "headers": "Selected response headers as JSON (never cookies or credentials).",
        "sha256": "SHA-256 of the body (capture_bodies).",
        "profile": "The site profile that read the page (NULL: not recorded, before version 2).",
    },
    "crawl_queue": {
        "url": "The URL as discovered (fragment stripped).",
        "host": "Its host (a crawl works on the hosts in its scope).",
        "kind": "listing, issue, article, or start (a start URL the profile cannot name).",
        "state": "pending, done, failed (retried next run), gone (4xx) or blocked (robots.txt).",
        "attempts": "Failed runs in a row.",
        "next_try_at": "Time before which a failed URL is not retried (a long Retry-After).",
        "reason": "Why it failed, was blocked or was not parsed.",
        "etag": "Validator sent as If-None-Match next time.",
        "last_modified": "Validator sent as If-Modified-Since next time.",
        "discovered_from": "The page whose link queued it (NULL for start URLs).",
        "last_status": "The last HTTP status (304 included).",
        "run_id": "The crawl run that last processed it.",
    },
    "crawl_runs": {
        "started_at": "When the run started (UTC).",
        "finished_at": "When it finished; NULL while running or after a kill (the next crawl resumes it).",
        "report": "The run's report as JSON, kept current page by page.",
        "alarm": "The field-coverage alarm, when one was raised.",
    },
}

# Foreign keys are shown by these columns of the table they point at.
LABEL_COLUMNS = {"articles": "title", "issues": "title", "newsletters": "name",
                 "authors": "name", "keywords": "name", "captures": "url"}
STYLESHEET = "datasette.css"


def stylesheet() -> str:
    return (resources.files("archiver.archive") / STYLESHEET).read_text(encoding="utf-8")


def stylesheet_url(css: str) -> str:
    """The stylesheet as a data: URL (comments and runs of spaces left out): served by no one,
    it works with the metadata file alone."""
    compact = re.sub(r"\s+", " ", re.sub(r"/\*.*?\*/", "", css, flags=re.S)).strip()
    return "data:text/css;base64," + base64.b64encode(compact.encode("utf-8")).decode("ascii")


def datasette_metadata() -> dict:
    """Contents of datasette-metadata.json (tests keep the file equal to this)."""
    tables = {name: {"title": name.replace("_", " ").capitalize(),
                     "description": escape(text, quote=False)}
              for name, text in TABLE_DESCRIPTIONS.items()}
    for name, columns in COLUMN_DESCRIPTIONS.items():
        tables[name]["columns"] = {k: escape(v, quote=False) for k, v in columns.items()}
    for name, column in LABEL_COLUMNS.items():
        tables[name]["label_column"] = column
    # Newest first. (Datasette's table search filters without ranking, so this order holds
    # for search results too; ranked search is `archiver search` or the SQL in the docs.)
    # (Facets of version-1 columns only: a facet on a column the file lacks breaks the page, and
    # Datasette may be pointed at an archive no writing command has upgraded yet.)
    tables["articles"].update(sort_desc="published",
                              facets=["newsletter_id", "study_type", "citation_journal"])
    # A view has no FTS index of its own; point Datasette's search box at the articles index.
    tables["articles_flat"].update(fts_table="articles_fts", fts_pk="id", sort_desc="published")
    tables["capture_bodies"]["hidden"] = True  # compressed bytes: nothing to browse
    tables["crawl_runs"]["sort_desc"] = "id"
    return {
        "title": "Newsletter archive",
        "description": "Articles archived by the archiver tool. docs/analysts.md describes "
                       "every table and has example queries.",
        "extra_css_urls": [stylesheet_url(stylesheet())],
        "databases": {"archive": {"tables": tables}},
    }
