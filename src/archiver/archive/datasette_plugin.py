"""A Datasette plugin (registered under the `datasette` entry point, so a Datasette installed
with archiver loads it): a foreign key shows the row it points at by its label column on row
pages too. Datasette links and labels foreign keys on table pages only; on an article's row
page issue_id would be a bare number, not the issue's title.

The label column of each table is datasette-metadata.json's `label_column`.
"""

from __future__ import annotations

import markupsafe
from datasette import hookimpl
from datasette.utils import escape_sqlite, tilde_encode

_foreign_keys: dict[tuple[str, str], dict[str, dict]] = {}


async def foreign_keys(db, database: str, table: str) -> dict[str, dict]:
    key = (database, table)
    if key not in _foreign_keys:
        _foreign_keys[key] = {fk["column"]: fk for fk in await db.foreign_keys_for_table(table)}
    return _foreign_keys[key]


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    # Table pages hand over expanded keys as {"value", "label"} dicts: only plain ids here.
    if table is None or not isinstance(value, int) or isinstance(value, bool):
        return None

    async def labelled():
        db = datasette.get_database(database)
        fk = (await foreign_keys(db, database, table)).get(column)
        if fk is None:
            return None
        label_column = await db.label_column_for_table(fk["other_table"])
        if not label_column:
            return None
        rows = (await db.execute(
            f"SELECT {escape_sqlite(label_column)} FROM {escape_sqlite(fk['other_table'])} "
            f"WHERE {escape_sqlite(fk['other_column'])} = ?", [value])).rows
        if not rows or rows[0][0] in (None, ""):
            return None
        href = datasette.urls.row(database, fk["other_table"], tilde_encode(str(value)))
        return markupsafe.Markup('<a href="{}">{}</a>&nbsp;<em>{}</em>').format(
            href, str(rows[0][0]), value)

    return labelled()
