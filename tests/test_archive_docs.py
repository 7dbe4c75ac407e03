"""docs/analysts.md and datasette-metadata.json stay true to the schema."""

import json
import re
from pathlib import Path

import pytest
from test_archive import make_article

from archiver.archive import Archive
from archiver.archive.describe import COLUMN_DESCRIPTIONS, LABEL_COLUMNS, TABLE_DESCRIPTIONS, datasette_metadata
from archiver.frontier import Frontier
from archiver.record import Capture, Issue

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", DOC, flags=re.S)


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    path = tmp_path_factory.mktemp("docs") / "archive.db"
    with Archive(path) as archive:
        archive.load([make_article(n, body=f"Ketamine and depression, note {n}.") for n in range(1, 13)])
        archive.store(make_article(2, title="A new title", body="Ketamine, longer depression note."))
        capture_id = archive.add_capture(Capture("https://www.thecarlatreport.com/articles/1-x", 200, {},
                                                 b"<p>a</p>", "2026-11-01T00:00:00Z"), profile="carlat")
        archive.store_issue(Issue(date="2011-02-01", title="Sleep, Volume 11", volume="11", number="1",
                                  url="https://www.thecarlatreport.com/newsletter-issue/tcprv1n1"),
                            "The Carlat Child Psychiatry Report", capture_id)
        with archive.transaction():
            Frontier(archive.db)  # the crawler's tables
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
    # The other tables are described by their signature, `table(column, ...)`: all columns.
    for table in set(populated.db.table_names()) - {"articles"}:
        if table.startswith("articles_fts"):
            continue
        signature = re.search(rf"`{table}\(([^)]*)\)`", DOC, flags=re.S)
        assert signature, table
        listed = [c.strip() for c in signature.group(1).split(",")]
        assert listed == list(populated.db[table].columns_dict), table


def test_metadata_file_is_current_and_describes_every_table(populated):
    on_disk = json.loads((ROOT / "datasette-metadata.json").read_text(encoding="utf-8"))
    assert on_disk == datasette_metadata(), "regenerate datasette-metadata.json from describe.datasette_metadata()"
    tables = on_disk["databases"]["archive"]["tables"]
    names = set(populated.db.table_names()) | set(populated.db.view_names())
    own = {n for n in names if not n.startswith("articles_fts_")}
    assert own == set(tables)  # every table described, the crawler's too
    for name, table in tables.items():
        assert table["description"] and not re.search(r"[<>`]", table["description"])
        assert len(table["description"]) <= 160, f"{name}: keep it short, Datasette shows it above the rows"
    assert "`" not in on_disk["description"]
    for name, described in COLUMN_DESCRIPTIONS.items():
        assert set(described) <= set(populated.db[name].columns_dict), name
    assert tables["articles_flat"]["fts_table"] == "articles_fts"
    for name, column in LABEL_COLUMNS.items():
        assert column in populated.db[name].columns_dict
    assert {tables[t].get("label_column") for t in ("issues", "newsletters", "authors", "keywords")} == \
        {"title", "name"}


def test_every_foreign_key_points_at_a_table_with_a_label(populated):
    tables = datasette_metadata()["databases"]["archive"]["tables"]
    targets = {fk.other_table for name in populated.db.table_names() for fk in populated.db[name].foreign_keys}
    assert targets - {"capture_bodies"} <= {name for name, table in tables.items() if "label_column" in table}


def test_the_stylesheet_rides_in_the_metadata_as_a_data_url():
    import base64

    from archiver.archive.describe import stylesheet

    url = datasette_metadata()["extra_css_urls"][0]
    assert url.startswith("data:text/css;base64,")
    css = base64.b64decode(url.split(",", 1)[1]).decode("utf-8")
    assert "body.row" in css and "dl.column-descriptions" in css and "/*" not in css
    assert css.count("{") == css.count("}") == stylesheet().count("{")
