"""The command line: each command parses options, calls the library, formats the output.

Exit statuses: 0 ok; 1 some inputs were not articles / failed; 2 bad usage or bad input;
3 the crawl's field coverage fell (the site's markup changed); 74 the archive file vanished during
a crawl; 75 another crawl holds the archive; 124 the crawl stopped at --max-time (the next one
resumes it); 130 interrupted.
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


NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2


class OneLineErrorsGroup(click.Group):
    """Click's usage errors (a bad flag or value, a missing file argument) print three lines
    starting `Usage:`; cron mails and scripts get the same one `error: ...` line as every
    other error, exit 2, and a pointer to --help."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NO_ARGS_IS_HELP as exc:  # `archiver` alone: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "archiver"
            fail(f"{' '.join(exc.format_message().split())} (see `{where} --help`)", exc.exit_code)
        except click.ClickException as exc:
            fail(" ".join(exc.format_message().split()), exc.exit_code)
        except click.exceptions.Abort:
            fail("aborted", 1)
        sys.exit(status if isinstance(status, int) else 0)


@click.group(cls=OneLineErrorsGroup)
@click.version_option(package_name="archiver")
def main():
    """Archive Carlat Publishing newsletter articles into a searchable SQLite file."""


db_option = click.option(
    "--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
    help="The SQLite archive.",
)


# -- parse (owner: PARSER helper) ---------------------------------------------------------------

def _page_files(paths):
    """(path, problem) pairs: files as given, directories expanded to their *.html/*.htm files."""
    from pathlib import Path

    for name in paths:
        path = Path(name)
        if path.is_dir():
            pages = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".html", ".htm") and p.is_file())
            if not pages:
                yield path, "no .html files in this directory"
            yield from ((page, None) for page in pages)
        elif path.exists():
            yield path, None
        else:
            yield path, "no such file"


def _explain(path, article) -> None:
    click.echo(f"explain: {path}", err=True)
    for field, strategy in article.provenance.items():
        click.echo(f"  {field}: {strategy}", err=True)
    if article.warnings:
        click.echo(f"  not found: {', '.join(article.warnings)}", err=True)


@main.command("parse")
@click.argument("paths", nargs=-1, required=True)
@click.option("--url", help="The URL the page was fetched from (sets url and article_id); one PATH only.")
@click.option("--explain", is_flag=True, help="Print which strategy answered each field (on stderr).")
@click.option("--profile", "profile_spec", metavar="NAME|FILE.toml",
              help="Site profile (see `archiver profiles`); default: chosen by the URL's host.")
def parse_command(paths, url, explain, profile_spec):
    """Parse saved article pages (files or directories) and print one JSON record per line.

    A page that is not an article, or bad input (missing, empty, binary, over the size cap),
    gets a one-line `error: PATH: ...` on stderr and the others continue. Exit status: 0 all
    parsed; 1 some pages were not articles; 2 some inputs were missing or too large."""
    from archiver.errors import InputTooLarge, NotAnArticle
    from archiver.parse import MAX_INPUT_BYTES, parse_article

    from archiver.profile import get_profile

    files = list(_page_files(paths))
    if url and len(files) != 1:
        fail("--url applies to exactly one page", 2)
    profile = None
    if profile_spec:
        try:
            profile = get_profile(profile_spec)
        except ArchiverError as exc:
            fail(str(exc), exc.exit_code)
    status = 0
    for path, problem in files:
        try:
            if problem:
                raise ArchiverError(problem)
            if path.stat().st_size > MAX_INPUT_BYTES:  # refuse before reading it all
                raise InputTooLarge(f"{path.stat().st_size / 1048576:.0f} MB, over the "
                                    f"{MAX_INPUT_BYTES // 1048576} MB size cap")
            article = parse_article(path.read_bytes(), url=url, profile=profile)
        except NotAnArticle as exc:
            click.echo(f"error: {path}: not an article page ({exc})", err=True)
            status = max(status, exc.exit_code)
            continue
        except ArchiverError as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            status = max(status, exc.exit_code)
            continue
        except OSError as exc:
            click.echo(f"error: {path}: {exc.strerror or exc}", err=True)
            status = max(status, 2)
            continue
        except Exception as exc:  # a parser bug must not stop a batch or print a traceback
            click.echo(f"error: {path}: parser failed ({type(exc).__name__}: {exc})", err=True)
            status = max(status, 1)
            continue
        click.echo(article.to_json())
        if explain:
            _explain(path, article)
    sys.exit(status)


@main.command("profiles")
def profiles_command():
    """List the built-in site profiles: name, hosts, extractor and what each is for.

    Any profile can also be given as a TOML file (docs/profiles.md): --profile my-site.toml."""
    from archiver.profile import builtin_names, builtin_profile

    for name in builtin_names():
        profile = builtin_profile(name)
        hosts = ", ".join(sorted(profile.hosts)) or "(any site, by name only)"
        click.echo(f"{name:<10} {profile.extractor_name:<8} {hosts}\n           {profile.title}")


# -- archive commands: load, reparse, search, export, stats (owner: ARCHIVE helper) ----------

def _open_archive(db_path: str, create: bool = False, read_only: bool = False):
    """load creates and upgrades the archive; reparse upgrades it; search, export and stats
    only read it (read-only, as it is: a file that is not an archive is left untouched)."""
    from archiver.archive import Archive

    return Archive(db_path, create=create, read_only=read_only)


@main.command()
@click.argument("jsonl", type=click.File("rb"))
@db_option
@one_line_errors
def load(jsonl, db_path):
    """Load article records (JSON Lines, as printed by `archiver parse`) into the archive.

    Each bad line is reported (`error: FILE:LINE: reason`) and skipped, the good ones are
    loaded, all in one transaction: Ctrl-C (exit 130) leaves the archive as it was. A record
    without any URL is archived under the hash of its content. Exit 1 if some lines were bad.
    """
    from archiver.archive import RecordLines

    source = getattr(jsonl, "name", "-")
    source = "<stdin>" if source in ("-", "<stdin>") else source
    records = RecordLines(jsonl, lambda number, reason: click.echo(
        f"error: {source}:{number}: {reason}", err=True))
    try:
        with _open_archive(db_path, create=True) as archive:
            outcomes = archive.load(records)
    except KeyboardInterrupt:
        fail("interrupted: nothing was loaded, the archive is as it was", 130)
    summary = ", ".join(f"{outcomes[k]} {k}" for k in ("new", "changed", "unchanged"))
    click.echo(f"loaded {sum(outcomes.values())} records: {summary}; {records.bad} bad lines")
    if records.bad:
        sys.exit(1)


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Parser processes.")
@click.option("--profile", "profile_spec", metavar="NAME|FILE.toml",
              help="Read every page with this site profile.  [default: the one recorded with "
                   "each page, else the one claiming its host]")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
@one_line_errors
def reparse(workers, profile_spec, as_json, db_path):
    """Re-run the current parser on every stored page and update what changed.

    Pages that are not articles (listings, issue pages) are counted, not failures.
    Exit 1 if the parser failed on some pages.
    """
    import json

    from tqdm import tqdm

    profile = None
    if profile_spec:  # a bad profile is bad usage: refused before the archive is opened
        from archiver.profile import get_profile

        profile = get_profile(profile_spec)
    with _open_archive(db_path) as archive, tqdm(
            desc="reparse", unit="page", disable=not sys.stderr.isatty(), leave=False) as bar:
        result = archive.reparse(workers=workers, progress=bar.update, profile=profile)
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

    from archiver.archive import check_date

    for name, value in (("since", since), ("until", until)):
        if value:  # refused before the archive is opened
            check_date(value, f"--{name}")
    with _open_archive(db_path, read_only=True) as archive:
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
@click.option("--output", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write (default: standard output); written beside itself and renamed "
                   "into place when complete.")
@click.option("--force", is_flag=True, help="Replace --output if it exists.")
@click.option("--bom", is_flag=True,
              help="Start the CSV with a UTF-8 byte order mark (for spreadsheet programs that "
                   "otherwise misread accents).")
@db_option
@one_line_errors
def export(fmt, output, force, bom, db_path):
    """Export every article: jsonl (loads back with `archiver load`) or csv (articles_flat).

    The archive's own files are never an output, and an existing file is replaced only with
    --force."""
    from archiver.archive.report import check_format
    from archiver.outputs import archive_files, check_output

    check_format(fmt, bom)
    to_stdout = output == "-"
    if not to_stdout:  # refused before the archive is even opened
        check_output(output, protect=archive_files(db_path), force=force)
    try:
        with _open_archive(db_path, read_only=True) as archive:
            count = archive.export(fmt, sys.stdout if to_stdout else output, force=force, bom=bom)
    except BrokenPipeError:  # `archiver export | head`: the reader has all it wanted
        sys.stderr.close()
        sys.exit(0)
    click.echo(f"exported {count} articles", err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@db_option
@one_line_errors
def stats(as_json, db_path):
    """Counts, date ranges and sizes of the archive."""
    import json

    from archiver.archive.report import format_stats

    with _open_archive(db_path, read_only=True) as archive:
        figures = archive.stats()
    if as_json:
        click.echo(json.dumps(figures, indent=2))
    else:
        click.echo(format_stats(figures, db_path))


# -- crawl (owner: CRAWLER helper) ----------------------------------------------------------------

def _setup_logging(log_file: str | None, quiet: bool) -> None:
    import logging

    logger = logging.getLogger("archiver")
    logger.setLevel(logging.INFO)
    for handler in [h for h in logger.handlers if getattr(h, "added_by_crawl", False)]:
        logger.removeHandler(handler)  # the command may run more than once in one process
        handler.close()
    console = logging.StreamHandler()
    console.setLevel(logging.ERROR if quiet else logging.WARNING)
    one_line = logging.Formatter("%(levelname)s: %(message)s")
    one_line.format = lambda record: f"{record.levelname.lower()}: {record.getMessage()}"
    console.setFormatter(one_line)  # `warning: ...` / `error: ...`, like every other message
    handlers = [console]
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handlers.append(handler)
    for handler in handlers:
        handler.added_by_crawl = True
        logger.addHandler(handler)



def _progress_bar(quiet: bool):
    """A tqdm bar on a terminal only; None (no output) under cron or with --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(unit="page", dynamic_ncols=True, leave=False)

    def update(report, waiting):
        bar.total = report.requests + waiting
        bar.set_postfix_str(f"new {report.new} changed {report.changed} 304 {report.not_modified} "
                            f"failed {report.failed}", refresh=False)
        bar.update(1)

    return bar, update


@main.command()
@click.argument("urls", nargs=-1)
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="The SQLite archive.  [default: data/archive.db]")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML settings (see archiver.toml.example).  [default: ./archiver.toml if present]")
@click.option("--delay", type=float, help="Seconds between requests to one host.  [default: 1.0]")
@click.option("--jitter", type=float, help="Fraction of --delay added at random (never subtracted).")
@click.option("--concurrency", type=int, help="Worker threads (across hosts).  [default: 4]")
@click.option("--timeout", type=float, help="Read timeout in seconds.  [default: 30]")
@click.option("--connect-timeout", type=float, help="Connect timeout in seconds.  [default: 10]")
@click.option("--page-timeout", type=float,
              help="Seconds for one attempt's whole answer, headers and body.  [default: 60]")
@click.option("--max-time", type=float,
              help="Stop after this many seconds, the rest pending for the next run (exit 124); "
                   "0 for no limit.  [default: 0]")
@click.option("--retries", type=int, help="Extra attempts on errors, 429 and 5xx.  [default: 3]")
@click.option("--backoff", type=float, help="First retry wait in seconds, then doubling.")
@click.option("--max-backoff", type=float, help="Longest retry wait (Retry-After included).")
@click.option("--max-redirects", type=int, help="Redirects followed per page.")
@click.option("--max-pages", type=int, help="Requests per run, 0 for no limit.  [default: 0]")
@click.option("--max-page-size", type=int, help="Largest decoded body in bytes.  [default: 20000000]")
@click.option("--recheck-articles-days", type=float,
              help="Re-check articles last checked at least this many days ago.  [default: 0]")
@click.option("--recheck-gone-days", type=float,
              help="Ask again after this many days for pages that were gone (404) or skipped.  [default: 30]")
@click.option("--max-other-hops", type=int,
              help="Follow links through at most this many pages in a row that are neither "
                   "articles nor listings / issues / feeds.  [default: 1]")
@click.option("--allow-host", "allow_hosts", multiple=True, help="Another host that may be fetched.")
@click.option("--warc-dir", help="Where WARC files go.  [default: data/warc]")
@click.option("--warc/--no-warc", "warc", default=None, help="Write WARC files.  [default: --warc]")
@click.option("--warc-max-size", type=int, help="Bytes per WARC file before rotating.")
@click.option("--cookies", type=click.Path(dir_okay=False),
              help="Netscape cookies.txt for subscriber pages (never stored).")
@click.option("--user-agent", help="User-Agent: name the project and a contact address.")
@click.option("--coverage-drop", type=float, help="Coverage fall that raises the alarm (exit 3).")
@click.option("--coverage-min-articles", type=int, help="Articles a run needs before the alarm applies.")
@click.option("--quiet", is_flag=True, default=None, help="Print nothing but errors (for cron).")
@click.option("--log", "log_file", type=click.Path(dir_okay=False), help="Also log every request here.")
@click.option("--profile", "profile_spec", metavar="NAME|FILE.toml",
              help="Site profile (`archiver profiles`; `generic` for any site).  [default: by host]")
@one_line_errors
def crawl(urls, db_path, config_path, allow_hosts, log_file, profile_spec, **settings):
    """Crawl the site (or URL...) into the archive: polite, incremental, resumable.

    Exit status 0 ok (pages that are gone or skipped are final answers, listed in the report),
    1 some pages failed (network errors, 5xx, 429: retried next run), 2 bad usage, 3 the field
    coverage fell (the site's markup changed), 74 the archive file was deleted or replaced
    during the crawl, 75 another crawl holds the archive, 124 stopped at --max-time (the next
    crawl resumes), 130 interrupted (the next crawl resumes)."""
    import os

    from archiver.archive import Archive
    from archiver.config import load_config
    from archiver.crawl import crawl as run_crawl

    if config_path is None and os.path.exists("archiver.toml"):
        config_path = "archiver.toml"
    config = load_config(config_path).replace(
        db=db_path, log=log_file, allow_hosts=list(allow_hosts) or None, **settings)
    if profile_spec:  # a bad profile is bad usage: refused before the archive is opened
        from archiver.profile import get_profile

        profile_spec = get_profile(profile_spec)
    _setup_logging(config.log, config.quiet)
    bar, progress = _progress_bar(config.quiet)
    try:
        with Archive(config.db) as archive:
            report = run_crawl(list(urls), archive, config, progress=progress, profile=profile_spec)
    except KeyboardInterrupt:
        fail("interrupted: the next crawl resumes where this one stopped", 130)
    finally:
        if bar is not None:
            bar.close()
    if not config.quiet:
        click.echo(report.format())
    if report.alarms:
        from archiver.errors import CoverageAlarm

        raise CoverageAlarm(f"field coverage fell: {report.alarms[0]}")  # exit 3
    stopped = f"stopped at --max-time {config.max_time:g} s; the next crawl resumes the pending pages"
    if report.failed:
        fail(f"{report.failed} of {report.requests} pages failed; they are retried on the next run"
             + (f" ({stopped})" if report.stopped else ""), 1)
    if report.stopped:
        fail(stopped, 124)
