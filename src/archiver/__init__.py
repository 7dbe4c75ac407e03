"""archiver: scrape Carlat Publishing newsletter articles into a searchable SQLite archive.

The public API:

    from archiver import parse_article, Archive, crawl
"""

from archiver.record import Article, Author, Capture, Citation, Issue, IssueArticle

__all__ = ["Article", "Author", "Capture", "Citation", "Issue", "IssueArticle", "parse_article"]
__version__ = "0.1.0"


def __getattr__(name):
    # Imported lazily so `import archiver` stays cheap and each stage loads only what it needs.
    if name == "parse_article":
        from archiver.parse import parse_article

        return parse_article
    if name == "Archive":
        from archiver.archive import Archive

        return Archive
    if name == "crawl":
        from archiver.crawl import crawl

        return crawl
    raise AttributeError(name)
