"""`archiver load` never crashes and never mangles: every kind of bad record is one error line
with its line number, and the good records around it are loaded."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_archive import make_article

from archiver.archive import Archive, BadRecord, article_from_line, article_from_record, check_date

CLI = [sys.executable, "-c", "from archiver.cli import main; main(prog_name='archiver')"]
PAGES = Path(__file__).parent / "fixtures" / "pages"


def good(**changes) -> dict:
    """A valid record (as `archiver parse` prints it) with some fields replaced."""
    record = make_article(1).to_dict()
    record.update(changes)
    return record


def nested(field: str, **changes) -> dict:
    record = good()
    record[field] = {**(record[field] or {}), **changes}
    return record


def author(**changes) -> dict:
    return good(authors=[{"name": "Ana Writer", "credentials": ["MD"], "affiliation": None, **changes}])


def line(record) -> bytes:
    return json.dumps(record).encode("utf-8")


# (what is wrong, the line's bytes, a word the error line must contain)
BAD = [
    ("not JSON", b'{"title": "unfinished', "not valid JSON"),
    ("a JSON array", b"[1, 2]", "not a list"),
    ("a JSON string", b'"a title"', "not a string"),
    ("JSON null", b"null", "not null"),
    ("a JSON number", b"42", "not a number"),
    ("an empty object", b"{}", "neither a title nor a body"),
    ("title as a list", line(good(title=["Does", "it", "help?"])), "title: expected a string"),
    ("title as a number", line(good(title=1227)), "title: expected a string"),
    ("title as an object", line(good(title={"text": "x"})), "title: expected a string"),
    ("body as an int", line(good(body=12)), "body: expected a string"),
    ("body as a list of paragraphs", line(good(body=["one", "two"])), "body: expected a string"),
    ("category as true", line(good(category=True)), "category: expected a string"),
    ("study_type as a number", line(good(study_type=3)), "study_type: expected a string"),
    ("disclosure as a list", line(good(disclosure=["none"])), "disclosure: expected a string"),
    ("newsletter as a list", line(good(newsletter=["TCPR"])), "newsletter: expected a string"),
    ("parser_version as a number", line(good(parser_version=2)), "parser_version: expected a string"),
    ("url as a number", line(good(url=5)), "url: expected a string"),
    ("url relative", line(good(url="/articles/1-x")), "url '/articles/1-x': expected an absolute"),
    ("url of a script", line(good(url="javascript:alert(1)")), "expected an absolute http(s) URL"),
    ("canonical_url as a list", line(good(canonical_url=["https://x.org/a"])), "canonical_url: expected a string"),
    ("canonical_url a broken key", line(good(canonical_url="urn:sha256:xyz")), "canonical_url"),
    ("article_id as a string", line(good(article_id="1227")), "article_id: expected a whole number"),
    ("article_id of 10**30", f'{{"title": "x", "article_id": {10**30}}}'.encode(), "does not fit in 64 bits"),
    ("article_id 2**63", line(good(article_id=2**63)), "does not fit in 64 bits"),
    ("article_id as a fraction", line(good(article_id=12.5)), "article_id: expected a whole number"),
    ("article_id as true", line(good(article_id=True)), "article_id: expected a whole number, not true"),
    ("an integer of 5000 digits", b'{"title": "x", "word_count": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ("authors as a string", line(good(authors="Ana Writer")), "authors: expected a list"),
    ("authors as a list of names", line(good(authors=["Ana Writer"])), "authors[0]: expected an object"),
    ("an author name that is a number", line(author(name=7)), "authors[0].name: expected a string"),
    ("an author without a name", line(good(authors=[{"credentials": ["MD"]}])), "authors[0].name: missing"),
    ("credentials as a string", line(author(credentials="MD")), "authors[0].credentials: expected a list"),
    ("credentials of numbers", line(author(credentials=[1])), "authors[0].credentials[0]: expected a string"),
    ("affiliation as a list", line(author(affiliation=["A", "B"])), "authors[0].affiliation: expected a string"),
    ("published 2021-99-99", line(good(published="2021-99-99")), "published '2021-99-99': no such date"),
    ("published 2021-02-30", line(good(published="2021-02-30")), "no such date"),
    ("published 2021-13", line(good(published="2021-13")), "no such date"),
    ("published in words", line(good(published="yesterday")), "expected a date as YYYY, YYYY-MM or YYYY-MM-DD"),
    ("published as a number", line(good(published=20210101)), "published: expected a string"),
    ("issue as a string", line(good(issue="2021-03")), "issue: expected an object"),
    ("issue date 2021-13-45", line(nested("issue", date="2021-13-45")), "issue.date '2021-13-45': no such date"),
    ("issue volume as a number", line(nested("issue", volume=19)), "issue.volume: expected a string"),
    ("issue url relative", line(nested("issue", url="/newsletter-issue/x")), "issue.url"),
    ("contents as a string", line(nested("issue", articles="a, b")), "issue.articles: expected a list"),
    ("a contents entry without title", line(nested("issue", articles=[{"url": "https://x.org/a"}])),
     "issue.articles[0].title: missing"),
    ("a contents entry with a bad url", line(nested("issue", articles=[{"title": "A", "url": "ftp://x"}])),
     "issue.articles[0].url"),
    ("citation as a string", line(good(citation="Roe A et al, J Sleep Res 2018")), "citation: expected an object"),
    ("citation without text", line(good(citation={"journal": "J Sleep Res"})), "citation.text: missing"),
    ("citation year as a string", line(nested("citation", year="2019")), "citation.year: expected a whole number"),
    ("citation year Infinity", b'{"title": "x", "citation": {"text": "t", "year": Infinity}}', "not valid JSON"),
    ("keywords as a string", line(good(keywords="ketamine")), "keywords: expected a list"),
    ("keywords with a number", line(good(keywords=["ketamine", 3])), "keywords[1]: expected a string"),
    ("warnings as a string", line(good(warnings="none")), "warnings: expected a list"),
    ("paywalled as yes", line(good(paywalled="yes")), "paywalled: expected true or false"),
    ("paywalled as 1", line(good(paywalled=1)), "paywalled: expected true or false"),
    ("word_count negative", line(good(word_count=-5)), "word_count: -5 is negative"),
    ("word_count as a fraction", line(good(word_count=1e3)), "word_count: expected a whole number"),
    ("word_count NaN", b'{"title": "x", "word_count": NaN}', "not valid JSON: NaN"),
    ("a lone surrogate in the title", b'{"title": "half \\ud800 a pair"}', "title: has a lone surrogate"),
    ("a lone surrogate in a keyword", line(good(keywords=["\udfff"])), "keywords[0]: has a lone surrogate"),
    ("no title and no body", line(good(title=None, body=None)), "neither a title nor a body"),
    ("invalid UTF-8 in the file", b'{"title": "caf\xe9 au lait"}', "not valid UTF-8 (byte 0xe9 at column 15)"),
    ("nested too deeply", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
]


def test_there_are_at_least_39_kinds():
    assert len(BAD) >= 39 and len({what for what, _, _ in BAD}) == len(BAD)


@pytest.mark.parametrize("what, raw, message", BAD, ids=[b[0] for b in BAD])
def test_each_kind_of_bad_record_is_one_line_naming_the_problem(what, raw, message):
    with pytest.raises(BadRecord) as info:
        article_from_line(raw)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_load_reports_every_bad_line_and_loads_every_good_one(tmp_path):
    lines, good_numbers, bad_numbers = [], [], {}
    for index, (what, raw, message) in enumerate(BAD):
        lines.append(make_article(index + 1).to_json().encode("utf-8"))
        good_numbers.append(len(lines))
        lines.append(raw)
        bad_numbers[len(lines)] = message
    lines.append(make_article(len(BAD) + 1).to_json().encode("utf-8"))
    source = tmp_path / "records.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "archive.db"
    result = subprocess.run([*CLI, "load", str(source), "--db", str(db)], capture_output=True, timeout=300)
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr
    errors = stderr.splitlines()
    assert len(errors) == len(BAD)
    for error, (number, message) in zip(errors, bad_numbers.items()):
        assert error.startswith(f"error: {source}:{number}: ") and message in error, (error, number)
    good_count = len(BAD) + 1
    assert result.stdout.decode() == (f"loaded {good_count} records: {good_count} new, 0 changed, "
                                      f"0 unchanged; {len(BAD)} bad lines\n")
    with Archive(db, read_only=True) as archive:
        assert archive.db["articles"].count == good_count
        for n in range(1, good_count + 1):
            assert archive.get_article(make_article(n).canonical_url) == make_article(n)
        # Nothing mangled: no one-letter keywords, no impossible date.
        assert archive.db.execute("SELECT count(*) FROM keywords WHERE length(name) = 1").fetchone()[0] == 0
        assert archive.db.execute("SELECT count(*) FROM articles WHERE published LIKE '%-99-%'").fetchone()[0] == 0


def test_records_without_any_url_load_from_standard_input_and_again_unchanged(tmp_path):
    # `archiver parse saved.html | archiver load -` for a saved page without a canonical link.
    record = good(url=None, canonical_url=None)
    db = tmp_path / "archive.db"
    for expected in ("1 new, 0 changed, 0 unchanged", "0 new, 0 changed, 1 unchanged"):
        result = subprocess.run([*CLI, "load", "-", "--db", str(db)], input=json.dumps(record) + "\n",
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout
    with Archive(db, read_only=True) as archive:
        (key,) = [k for (k,) in archive.db.execute("SELECT canonical_url FROM articles")]
    assert key.startswith("urn:sha256:")


def test_records_as_parse_prints_them_are_accepted_unchanged():
    for expected in sorted(PAGES.glob("*.expected.json")):
        record = json.loads(expected.read_text(encoding="utf-8"))
        if "error" in record:
            continue
        assert article_from_record(record).to_dict() == record, expected.name
    assert article_from_record(make_article(4).to_dict()) == make_article(4)


def test_keys_the_record_does_not_know_are_ignored():
    assert article_from_record({**good(), "exported_by": "another tool"}) == make_article(1)


@pytest.mark.parametrize("value", ["2021", "2021-02", "2021-02-28", "2020-02-29"])
def test_dates_that_exist(value):
    assert check_date(value, "--since") == value


@pytest.mark.parametrize("value", ["2021-13", "2021-02-30", "2021-13-45", "2019-02-29", "0000", "21-01-01",
                                   "2021/01/01", "2021-1-1", " 2021", "2021-01-01T00:00"])
def test_dates_that_do_not(value):
    with pytest.raises(BadRecord, match=f"--since {value!r}: "):
        check_date(value, "--since")


@pytest.mark.parametrize("value", ["2021-13", "2021-02-30", "2021-13-45", "yesterday"])
def test_search_refuses_impossible_dates_in_one_line(tmp_path, value):
    db = tmp_path / "archive.db"
    Archive(db).close()
    for option in ("--since", "--until"):
        result = subprocess.run([*CLI, "search", "sleep", option, value, "--db", str(db)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and result.stderr.count("\n") == 1
        assert result.stderr.startswith(f"error: {option} {value!r}: ")
