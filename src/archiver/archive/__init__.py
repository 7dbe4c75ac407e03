"""The SQLite archive: schema + migrations, captures, articles with history, search, export.

    from archiver.archive import Archive
    with Archive("data/archive.db") as archive:
        archive.store(article, capture_id=archive.add_capture(capture))
"""

from archiver.archive.core import Archive
from archiver.archive.store import article_key, content_sha256
from archiver.archive.schema import SCHEMA_VERSION

__all__ = ["Archive", "SCHEMA_VERSION", "article_key", "content_sha256"]
