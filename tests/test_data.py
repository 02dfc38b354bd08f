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


# --- sources: hosts and kinds -------------------------------------------------------------------------------------

#: A host label that marks a development, demonstration or staging copy of a site (dev-v4., news-demo., staging.).
UNSTABLE_HOST = re.compile(r"(^|[.-])(dev|demo|staging|stage|test)(\d*|-v\d+)([.-]|$)")


def unstable_hosts(folder):
    """Sources whose address is on a development, demo or staging host: such copies change or vanish."""
    sources = data.load("sources", folder)
    hosts = sources["url"].str.extract(r"https?://([^/:]+)", expand=False).str.lower()
    return sorted(sources.loc[hosts.map(lambda host: any(UNSTABLE_HOST.search(label) for label in host.split("."))), "id"])


def test_no_source_is_on_a_development_demo_or_staging_host():
    assert unstable_hosts(DATA) == [], "cite the production page or a wire copy, and say why in the source's note"


@pytest.mark.parametrize("url", ["https://dev-v4.freemalaysiatoday.com/x", "https://news-demo.cts.com.tw/cna/y",
                                 "http://staging.example.org/z"])
def test_an_unstable_host_is_refused(data_copy, url):
    rewrite_cell(data_copy, "sources", 2, "url", url)
    assert len(unstable_hosts(data_copy)) == 1


def test_a_production_host_with_dev_in_its_name_is_allowed(data_copy):
    rewrite_cell(data_copy, "sources", 2, "url", "https://www.devdiscourse.com/article/x")
    assert unstable_hosts(data_copy) == []


# --- version and change log ---------------------------------------------------------------------------------------

CHANGELOG_ENTRY = re.compile(r"^## (\d+\.\d+\.\d+) \((\d{4}-\d{2}-\d{2})\)\n+Digest: `sha256:([0-9a-f]{64})`", re.M)


def changelog_problems(folder):
    """Ways the change log fails to record the package as it is: version, date order, digest."""
    entries = CHANGELOG_ENTRY.findall((folder / "CHANGELOG.md").read_text(encoding="utf-8"))
    if not entries:
        return ["CHANGELOG.md has no entry of the form '## X.Y.Z (YYYY-MM-DD)' followed by a 'Digest:' line"]
    version, _, recorded = entries[0]
    problems = []
    if version != data.describe(folder)["version"]:
        problems.append(f"the newest entry is {version} but datapackage.json says {data.describe(folder)['version']}")
    if recorded != data.digest(folder):
        problems.append(f"the data changed since version {version} was recorded: bump the version in datapackage.json "
                        f"and add a dated entry with Digest: `sha256:{data.digest(folder)}`")
    numbers = [tuple(int(part) for part in v.split(".")) for v, _, _ in entries]
    if numbers != sorted(set(numbers), reverse=True):
        problems.append("versions must be listed newest first, each once")
    if [d for _, d, _ in entries] != sorted((d for _, d, _ in entries), reverse=True):
        problems.append("entries must be listed newest first by date")
    if len({digest for _, _, digest in entries}) != len(entries):
        problems.append("two versions record the same digest: a new version needs a data change, and the reverse")
    return problems


def test_changelog_records_the_current_version_and_digest():
    assert changelog_problems(DATA) == []


def test_a_data_change_without_a_new_version_is_refused(data_copy):
    rewrite_cell(data_copy, "events", 2, "description", "A silently edited row.")
    assert any("bump the version" in problem for problem in changelog_problems(data_copy))


def test_a_version_bump_without_a_changelog_entry_is_refused(data_copy):
    descriptor = json.loads((data_copy / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["version"] = "99.0.0"
    (data_copy / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    assert any("datapackage.json says 99.0.0" in problem for problem in changelog_problems(data_copy))


def test_freshness_is_the_newest_evidence_date_and_the_version(data_copy):
    newest, version = data.freshness()
    assert version == data.describe()["version"]
    assert newest == max(frame[column].max() for name, frame in data.load_all().items()
                         if name != "sources" and name not in data.TIMELESS
                         for column in frame.select_dtypes("datetime").columns)
    rewrite_cell(data_copy, "events", 2, "date", "2026-06-30")
    assert data.freshness(data_copy)[0] == pd.Timestamp("2026-06-30")
    assert "30 June 2026" in data.freshness_line(data_copy)
