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


# -- archive commands: load, reparse, search, export, stats (owner: ARCHIVE helper) ----------

def _open_archive(db_path: str, create: bool = False):
    from archiver.archive import Archive

    return Archive(db_path, create=create)


def _records_from(lines, source: str, bad: list):
    """Articles from JSON Lines; a bad line is reported on stderr and skipped."""
    import json

    from archiver.archive import article_key
    from archiver.record import Article

    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            article = Article.from_dict(json.loads(line))
            article_key(article)
        except (ValueError, TypeError, KeyError, AttributeError, ArchiverError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            click.echo(f"error: {source}:{number}: {reason}", err=True)
            bad.append(number)
            continue
        yield article


@main.command()
@click.argument("jsonl", type=click.File("r", encoding="utf-8"))
@db_option
@one_line_errors
def load(jsonl, db_path):
    """Load article records (JSON Lines, as printed by `archiver parse`) into the archive.

    Exit 1 if some lines were not valid records (the others are loaded).
    """
    bad: list[int] = []
    with _open_archive(db_path, create=True) as archive:
        outcomes = archive.load(_records_from(jsonl, jsonl.name, bad))
    summary = ", ".join(f"{outcomes[k]} {k}" for k in ("new", "changed", "unchanged"))
    click.echo(f"loaded {sum(outcomes.values())} records: {summary}; {len(bad)} bad lines")
    if bad:
        sys.exit(1)


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Parser processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
@one_line_errors
def reparse(workers, as_json, db_path):
    """Re-run the current parser on every stored article capture and update what changed.

    Exit 1 if the parser crashed on some captures.
    """
    import json

    with _open_archive(db_path) as archive:
        result = archive.reparse(workers=workers)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        outcomes = ", ".join(f"{n} {k}" for k, n in sorted(result.outcomes.items()))
        click.echo(f"reparsed {result.captures} captures: {outcomes or 'nothing to do'}")
        for name, count in result.fields.most_common():
            click.echo(f"  {name}: changed in {count} articles")
        for failure in result.failures:
            click.echo(f"error: {failure}", err=True)
    if result.outcomes.get("failed"):
        sys.exit(1)


@main.command()
@click.argument("query")
@click.option("--author", help="Only articles by an author whose name contains this.")
@click.option("--keyword", help="Only articles with this keyword (any case).")
@click.option("--newsletter", help="Only articles from a newsletter whose name contains this.")
@click.option("--study-type", help="Only articles whose study type contains this, e.g. crossover.")
@click.option("--since", help="Published on or after YYYY[-MM[-DD]].")
@click.option("--until", help="Published on or before YYYY[-MM[-DD]].")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print results as a JSON array.")
@db_option
@one_line_errors
def search(query, author, keyword, newsletter, study_type, since, until, limit, as_json, db_path):
    """Full-text search (FTS5 syntax: words, "phrases", AND/OR/NOT, prefix*), best match first."""
    import json

    with _open_archive(db_path) as archive:
        results = archive.search(query, author=author, keyword=keyword, newsletter=newsletter,
                                 study_type=study_type, since=since, until=until, limit=limit)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for number, hit in enumerate(results, 1):
        click.echo(f"{number}. {hit['title']} ({hit['published'] or 'undated'}, "
                   f"{hit['newsletter'] or 'no newsletter'})")
        if hit["authors"]:
            click.echo(f"   {hit['authors']}")
        click.echo(f"   {hit['url']}")
        click.echo(f"   {hit['snippet']}")
    if not results:
        click.echo("no matches", err=True)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True)
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
@db_option
@one_line_errors
def export(fmt, output, db_path):
    """Export every article: jsonl (loads back with `archiver load`) or csv (articles_flat)."""
    with _open_archive(db_path) as archive:
        count = archive.export(fmt, output)
    click.echo(f"exported {count} articles", err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@db_option
@one_line_errors
def stats(as_json, db_path):
    """Counts, date ranges and sizes of the archive."""
    import json

    with _open_archive(db_path) as archive:
        figures = archive.stats()
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(f"schema version: {figures['schema_version']}")
    for table, count in figures["counts"].items():
        click.echo(f"{table}: {count}")
    click.echo(f"paywalled articles: {figures['paywalled_articles']}")
    published, fetched = figures["published"], figures["fetched"]
    click.echo(f"published: {published['first']} .. {published['last']}")
    click.echo(f"fetched: {fetched['first']} .. {fetched['last']}")
    sizes = figures["capture_bytes"]
    click.echo(f"capture bytes: {sizes['raw']} raw, {sizes['stored']} stored")
    for name, count in figures["articles_per_newsletter"].items():
        click.echo(f"  {name}: {count} articles")
