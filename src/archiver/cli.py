"""The command line: each command parses options, calls the library, formats the output.

Exit statuses: 0 ok; 1 some inputs were not articles / failed; 2 bad usage or bad input;
3 the crawl's field coverage fell (the site's markup changed); 75 another crawl holds the archive.
"""

from __future__ import annotations

import functools
import sys

import click

from archiver.errors import ArchiverError

DEFAULT_DB = "data/archive.db"


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def one_line_errors(func):
    """Turn library errors into `error: ...` and their exit status, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ArchiverError as exc:
            fail(str(exc), exc.exit_code)
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), 2)

    return wrapper


@click.group()
@click.version_option(package_name="archiver")
def main():
    """Archive Carlat Publishing newsletter articles into a searchable SQLite file."""


db_option = click.option(
    "--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
    help="The SQLite archive.",
)
