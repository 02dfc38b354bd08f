"""The data package: every table validates and loads with its declared types, and broken copies are
rejected with a message naming file, row and column."""
import csv
import json
import re

import pandas as pd
import pytest
from frictionless import Package

from coursepack import data
from tests.conftest import DATA

TABLES = data.table_names()


def rewrite_cell(folder, table, row, column, value):
    """Set one cell of ``folder/table.csv``; ``row`` counts like a spreadsheet (header is row 1)."""
    path = folder / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def drop_column(folder, table, column):
    path = folder / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    index = rows[0].index(column)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([r[:index] + r[index + 1:] for r in rows])


@pytest.mark.parametrize("name", TABLES)
def test_every_table_loads_with_declared_types(name):
    frame = data.load(name)
    assert len(frame) > 0
    schema = next(r for r in data.describe()["resources"] if r["name"] == name)["schema"]
    for field in schema["fields"]:
        dtype = frame[field["name"]].dtype
        expected = {"date": "datetime64", "integer": "Int64", "number": "float64", "boolean": "boolean"}.get(
            field["type"]
        )
        if expected:
            assert str(dtype).startswith(expected), f"{name}.{field['name']} is {dtype}, expected {expected}"
        else:
            assert pd.api.types.is_string_dtype(dtype), f"{name}.{field['name']} is {dtype}, expected text"
        if field.get("constraints", {}).get("required"):
            assert frame[field["name"]].notna().all()


def test_package_passes_frictionless_validate():
    report = Package(str(DATA / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


@pytest.mark.parametrize("name", TABLES)
def test_keys_unique_dates_in_range_and_sources_exist(name):
    frame = data.load(name)
    schema = next(r for r in data.describe()["resources"] if r["name"] == name)["schema"]
    key = schema["primaryKey"]
    assert not frame.duplicated(key).any(), f"duplicate {key} in {name}"
    for field in schema["fields"]:
        if field["type"] == "date":
            values = frame[field["name"]].dropna()
            assert values.between("2017-01-01", "2026-12-31").all(), f"{name}.{field['name']} outside 2017-2026"
    for fk in schema.get("foreignKeys", []):
        reference = fk["reference"]
        known = set(data.load(reference["resource"])[reference["fields"]])
        used = set(frame[fk["fields"]].dropna())
        assert used <= known, f"{name}.{fk['fields']} cites unknown {reference['resource']} ids {used - known}"


def test_every_source_is_cited_and_complete():
    """Every listed source backs a table row or is cited by id in a chapter's text."""
    sources = data.load("sources")
    assert sources["url"].str.match(r"https?://").all()
    chapters = " ".join(path.read_text(encoding="utf-8") for path in (DATA.parent / "notebooks").glob("*.ipynb"))
    cited = {source_id for source_id in sources["id"] if re.search(rf"(?<![\w-]){re.escape(source_id)}(?![\w-])", chapters)}
    for name in TABLES:
        frame = data.load(name)
        for column in frame.columns:
            if column.endswith("source_id"):
                cited |= set(frame[column].dropna())
    assert set(sources["id"]) - cited == set(), "sources listed but never cited"


BROKEN = [
    # (table, row, column, bad value, words the message must contain)
    ("events", 2, "description", "", "missing required value"),
    ("events", 3, "date", "2024-13-45", "cannot read '2024-13-45' as a date"),
    ("events", 4, "date", "24 October 2024", "as a date"),
    ("events", 5, "actor", "Atlantis", "'Atlantis' is not an allowed value"),
    ("events", 6, "source_id", "no-such-source", "unknown id"),
    ("troop_estimates", 2, "low", "ten thousand", "as a whole number"),
    ("troop_estimates", 3, "high", "-5", "breaks a rule"),
    ("troop_estimates", 4, "location", "somewhere", "not an allowed value"),
    ("sources", 2, "url", "not a link", "breaks a rule"),
    ("sources", 3, "kind", "blog", "not an allowed value"),
]


@pytest.mark.parametrize("table,row,column,value,expected", BROKEN)
def test_broken_cell_is_reported_with_file_row_and_column(data_copy, table, row, column, value, expected):
    rewrite_cell(data_copy, table, row, column, value)
    with pytest.raises(data.DataError) as error:
        data.load(table, data_copy)
    message = str(error.value)
    assert f"{table}.csv, row {row}, column '{column}'" in message
    assert expected in message


@pytest.mark.parametrize("table,row,column,value,expected", BROKEN)
def test_frictionless_agrees_each_broken_copy_is_invalid(data_copy, table, row, column, value, expected):
    """The reference validator rejects the same cells, so the fast checker enforces no rules of its own."""
    rewrite_cell(data_copy, table, row, column, value)
    report = Package(str(data_copy / "datapackage.json")).get_resource(table).validate()
    flagged = {(error.row_number, getattr(error, "field_name", None) or (getattr(error, "field_names", None) or [None])[0])
               for task in report.tasks for error in task.errors}
    assert (row, column) in flagged


def test_duplicate_key_is_reported(data_copy):
    first_id = data.load("events")["id"].iloc[0]
    rewrite_cell(data_copy, "events", 3, "id", first_id)
    with pytest.raises(data.DataError, match=r"events.csv, row 3, column 'id': duplicate key"):
        data.load("events", data_copy)


def test_missing_file_is_reported(data_copy):
    (data_copy / "troop_estimates.csv").unlink()
    with pytest.raises(data.DataError, match=r"troop_estimates.csv: file not found"):
        data.load("troop_estimates", data_copy)


def test_missing_column_is_reported(data_copy):
    drop_column(data_copy, "events", "actor")
    with pytest.raises(data.DataError, match=r"events.csv.*column 'actor'"):
        data.load("events", data_copy)


def test_unknown_table_and_broken_descriptor(data_copy):
    with pytest.raises(data.DataError, match="No table named 'nope'"):
        data.load("nope", data_copy)
    (data_copy / "datapackage.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(data.DataError, match=r"datapackage.json, line 1"):
        data.load("events", data_copy)


def test_no_partial_table_after_fixing(data_copy):
    """A broken table raises; once fixed, it loads whole (the cache does not keep the failure)."""
    rewrite_cell(data_copy, "events", 2, "date", "bad")
    with pytest.raises(data.DataError):
        data.load("events", data_copy)
    original = next(csv.DictReader((DATA / "events.csv").open(encoding="utf-8")))
    rewrite_cell(data_copy, "events", 2, "date", original["date"])
    assert len(data.load("events", data_copy)) == len(data.load("events"))


def test_as_of_keeps_only_what_was_reported():
    early = data.as_of("2024-10-20")
    estimates = early["troop_estimates"]
    assert (estimates["date"] <= "2024-10-20").all()
    assert len(estimates) < len(data.load("troop_estimates"))
    events = early["events"]
    assert (events["date_reported"].fillna(events["date"]) <= "2024-10-20").all()
    assert (early["sources"]["date"] <= "2024-10-20").all()


def test_descriptor_declares_keys_and_sources_for_every_table():
    for resource in json.loads((DATA / "datapackage.json").read_text())["resources"]:
        schema = resource["schema"]
        assert schema.get("primaryKey"), resource["name"]
        if resource["name"] != "sources":
            assert any(fk["reference"]["resource"] == "sources" for fk in schema["foreignKeys"]), resource["name"]
