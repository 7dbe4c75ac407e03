"""`archiver parse` as a user runs it: a real subprocess, files and directories, bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PAGES = Path(__file__).parent / "fixtures" / "pages"
SEED = PAGES / "tcpr-ketamine-opiate.html"
SEED_URL = "https://www.thecarlatreport.com/articles/1227-is-ketamine-just-another-opiate"


def run(*args):
    script = Path(sys.executable).parent / "archiver"
    return subprocess.run([str(script), *map(str, args)], capture_output=True, text=True)


def test_seed_page_prints_its_full_record():
    result = run("parse", SEED, "--url", SEED_URL)
    assert result.returncode == 0 and result.stderr == ""
    record = json.loads(result.stdout)
    assert record == json.loads((PAGES / "tcpr-ketamine-opiate.expected.json").read_text(encoding="utf-8"))


def test_directory_gives_json_lines_and_not_articles_fail_at_the_end(tmp_path):
    for name in ("tcpr-ketamine-opiate", "tcpr-research-doi", "page-not-found"):
        (tmp_path / f"{name}.html").write_bytes((PAGES / f"{name}.html").read_bytes())
    result = run("parse", tmp_path)
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["title"] for line in lines)
    assert result.stderr.startswith(f"error: {tmp_path / 'page-not-found.html'}: not an article page (")
    assert len(result.stderr.splitlines()) == 1
    assert result.returncode == 1


def test_bad_inputs_each_get_one_line_and_the_batch_continues(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.html"
    binary.write_bytes(bytes(range(256)) * 8)
    invalid = tmp_path / "invalid.html"
    invalid.write_bytes(b"\xc3\x28\xa0\xa1 not utf-8 \xe2\x28\xa1 at all \xf0\x28\x8c\xbc")
    huge = tmp_path / "huge.html"
    with huge.open("wb") as handle:  # 50 MB, sparse on disk
        handle.truncate(50 * 1024 * 1024)
    missing = tmp_path / "missing.html"
    result = run("parse", empty, binary, invalid, huge, missing, SEED)
    errors = result.stderr.splitlines()
    assert len(errors) == 5, result.stderr
    assert all(line.startswith("error: ") for line in errors)
    assert "Traceback" not in result.stderr
    assert "size cap" in result.stderr and "no such file" in result.stderr
    assert json.loads(result.stdout)["title"] == "Is Ketamine Just Another Opiate?"
    assert result.returncode == 2  # missing / too large inputs are bad input


def test_explain_names_the_strategy_of_each_field_on_stderr():
    result = run("parse", SEED, "--explain")
    assert result.returncode == 0
    json.loads(result.stdout)  # stdout stays pure JSON
    assert "title: " in result.stderr and "keywords: template" in result.stderr
    assert "issue.articles: label toc (page)" in result.stderr


def test_url_needs_exactly_one_page():
    result = run("parse", SEED, SEED, "--url", SEED_URL)
    assert result.returncode == 2 and result.stderr.startswith("error: ")


NEW_PAGES = sorted(p for p in PAGES.glob("*.html") if p.stem.startswith(("cur-", "wp-", "drupal-", "html5-", "table-")))
NO_RULE = {"url", "word_count", "parser_version", "warnings", "paywalled"}  # the input, or derived from fields


def filled_fields(record: dict) -> list[str]:
    """The record's filled fields as provenance names them ("issue.volume", "authors.affiliation")."""
    names = []
    for key, value in record.items():
        if key in NO_RULE or value in (None, [], ""):
            continue
        if key == "issue":
            names += [f"issue.{part}" for part, v in value.items() if v not in (None, [])]
        else:
            names.append(key)
            if key == "authors" and any(a.get("affiliation") for a in value):
                names.append("authors.affiliation")
    if record.get("paywalled"):
        names.append("paywalled")
    return names


def test_there_are_new_pages_of_every_generation():
    assert len(NEW_PAGES) >= 12


@pytest.mark.parametrize("page", NEW_PAGES, ids=lambda p: p.stem)
def test_explain_names_a_rule_for_every_field_a_new_page_fills(page):
    url = json.loads(page.with_suffix(".meta.json").read_text(encoding="utf-8"))["url"]
    result = run("parse", page, "--url", url, "--explain")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    explained = {line.strip().split(": ", 1)[0] for line in result.stderr.splitlines()[1:] if ": " in line}
    missing = [field for field in filled_fields(record) if field not in explained]
    assert not missing, f"{page.stem}: no rule named for {missing}"
