"""docs/analysts.md and datasette-metadata.json stay true to the schema."""

import json
import re
from pathlib import Path

import pytest
from test_archive import make_article

from archiver.archive import Archive
from archiver.archive.schema import TABLE_DESCRIPTIONS, datasette_metadata
from archiver.record import Capture

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", DOC, flags=re.S)


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    path = tmp_path_factory.mktemp("docs") / "archive.db"
    with Archive(path) as archive:
        archive.load([make_article(n, body=f"Ketamine and depression, note {n}.") for n in range(1, 13)])
        archive.store(make_article(2, title="A new title", body="Ketamine, longer depression note."))
        archive.add_capture(Capture("https://www.thecarlatreport.com/articles/1-x", 200, {}, b"<p>a</p>",
                                    "2026-11-01T00:00:00Z"))
    with Archive(path) as archive:
        yield archive


def test_the_doc_has_at_least_eight_example_queries():
    assert len(SQL_BLOCKS) >= 8


@pytest.mark.parametrize("sql", SQL_BLOCKS, ids=[f"query{i}" for i in range(len(SQL_BLOCKS))])
def test_every_example_query_runs_and_returns_rows(populated, sql):
    rows = populated.db.execute(sql).fetchall()
    assert rows, "each example should show something on a populated archive"


def test_the_doc_describes_every_table_and_articles_column(populated):
    for table in TABLE_DESCRIPTIONS:
        assert f"`{table}`" in DOC, table
    for column in populated.db["articles"].columns_dict:
        assert f"`{column}`" in DOC, column


def test_metadata_file_is_current_and_describes_every_table(populated):
    on_disk = json.loads((ROOT / "datasette-metadata.json").read_text(encoding="utf-8"))
    assert on_disk == datasette_metadata(), "regenerate datasette-metadata.json from schema.datasette_metadata()"
    tables = on_disk["databases"]["archive"]["tables"]
    names = set(populated.db.table_names()) | set(populated.db.view_names())
    own = {n for n in names if not n.startswith("articles_fts_")}
    assert own <= set(tables)
    for name, table in tables.items():
        assert name in names
        assert table["description"] and not re.search(r"[<>]", table["description"])
    for column in tables["articles"]["columns"]:
        assert column in populated.db["articles"].columns_dict
    assert tables["articles_flat"]["fts_table"] == "articles_fts"
