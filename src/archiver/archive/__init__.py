"""The SQLite archive: schema + migrations, captures, articles and issues with history, search,
export, reparse.

    from archiver.archive import Archive
    with Archive("data/archive.db") as archive:
        capture_id = archive.add_capture(capture, profile=profile.name)
        archive.store(article, capture_id=capture_id)
        archive.store_issue(issue, newsletter, capture_id=capture_id)
    with Archive("data/archive.db", read_only=True) as archive:
        archive.search("ketamine")
"""

from archiver.archive.core import BUSY_TIMEOUT, Archive
from archiver.archive.migrations import SCHEMA_VERSION
from archiver.archive.store import article_key, content_sha256
from archiver.archive.validate import BadRecord, RecordLines, article_from_line, article_from_record, check_date

__all__ = ["Archive", "BUSY_TIMEOUT", "BadRecord", "RecordLines", "SCHEMA_VERSION", "article_from_line",
           "article_from_record", "article_key", "check_date", "content_sha256"]
