"""Errors the CLI turns into one line and a documented exit status (see README, "Exit statuses")."""


class ArchiverError(Exception):
    """A failure the user can act on: printed as ``error: <message>``, never as a traceback."""

    exit_code = 2


class NotAnArticle(ArchiverError):
    """The page is not an article page. `kind` says what it is instead, when the parser can
    tell: "listing" or "issue" (a hub whose links lead to articles), "error" (an error page),
    "other" (anything else: an about page, binary data, ...)."""

    exit_code = 1

    def __init__(self, reason: str = "", kind: str = "other"):
        super().__init__(reason)
        self.kind = kind


class InputTooLarge(ArchiverError):
    exit_code = 2


class ArchiveLocked(ArchiverError):
    """Another crawl holds the archive: EX_TEMPFAIL, so overlapping cron runs are harmless."""

    exit_code = 75


class CoverageAlarm(ArchiverError):
    """Field coverage fell well below the archive's history: the site probably changed."""

    exit_code = 3


class ArchiveVanished(ArchiverError):
    """The archive file was deleted or replaced while a crawl was writing to it: the crawl stops
    (EX_IOERR) rather than go on writing into a file nobody can open any more."""

    exit_code = 74
