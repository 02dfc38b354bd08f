"""Load the course pack's evidence tables, validated against ``data/datapackage.json``.

Every table is a CSV file described in a Frictionless Data Package: field types, required fields,
allowed values, primary keys and foreign keys to ``sources.csv``. :func:`load` validates a table with
Frictionless and returns it as a typed pandas DataFrame, or raises :class:`DataError` naming the file,
the row and the column of the first problems found. A table is never returned half-loaded.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PACKAGE_FILE = "datapackage.json"
MAX_ERRORS_SHOWN = 5

#: The column that says when each row became public, for :func:`as_of`.
#: Tables not listed here are filtered by the publication date of their source.
REPORTED_ON = {
    "events": "date_reported",  # falls back to "date" where empty
    "troop_estimates": "date",
    "russian_casualties": "date_reported",
    "nk_casualties": "date_reported",
    "statements": "date",
    "exchanges": "date_reported",
}


class DataError(ValueError):
    """A data file does not match its description in ``datapackage.json``."""


def describe(data_dir: Path | str = DATA_DIR) -> dict:
    """Return the parsed ``datapackage.json`` descriptor.

    Useful for documentation pages that list every table, its fields and their meanings.
    """
    path = Path(data_dir) / PACKAGE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: file not found; the data package descriptor is missing."
        raise DataError(msg) from None
    except json.JSONDecodeError as err:
        msg = f"{path}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg})."
        raise DataError(msg) from None


def table_names(data_dir: Path | str = DATA_DIR) -> list[str]:
    """Names of every table in the package, in the order they are declared."""
    return [resource["name"] for resource in describe(data_dir)["resources"]]


def load(name: str, data_dir: Path | str = DATA_DIR) -> pd.DataFrame:
    """Validate table ``name`` and return it as a DataFrame with the declared types.

    Dates become ``datetime64``, integers the nullable ``Int64``, numbers ``float64``; text stays text
    and an empty optional cell is missing (``<NA>``/``NaN``), never the empty string.

    Raises
    ------
    DataError
        If the file is missing, or any cell breaks the schema (missing required value, unparsable
        date or number, value outside its allowed set, duplicate key, unknown source id, missing or
        extra column). The message names the file, the row (as numbered by a spreadsheet, header
        row 1) and the column.

    Examples
    --------
    >>> sources = load("sources")
    >>> sources["id"].is_unique
    True
    """
    return _load_cached(name, str(Path(data_dir).resolve()), _fingerprint(Path(data_dir))).copy()


def load_all(data_dir: Path | str = DATA_DIR) -> dict[str, pd.DataFrame]:
    """Every table of the package, validated, keyed by name."""
    return {name: load(name, data_dir) for name in table_names(data_dir)}


def as_of(date: str | pd.Timestamp, data_dir: Path | str = DATA_DIR) -> dict[str, pd.DataFrame]:
    """Every table cut down to what had been publicly reported on or before ``date``.

    Why: the analysis was written in late October 2024; chapters ask what was known then, and what
    was learned later. Rows are kept when their reporting date (see ``REPORTED_ON``) or, for other
    tables, their source's publication date is on or before ``date``. In ``claims``, outcomes and
    verdicts whose source appeared after ``date`` are blanked.
    """
    cutoff = pd.Timestamp(date)
    tables = load_all(data_dir)
    published = tables["sources"].set_index("id")["date"]
    result = {}
    for name, frame in tables.items():
        if name == "sources":
            result[name] = frame[frame["date"] <= cutoff].reset_index(drop=True)
            continue
        column = REPORTED_ON.get(name)
        if column is not None:
            when = frame[column]
            if name == "events":
                when = when.fillna(frame["date"])
        elif "source_id" in frame:
            when = frame["source_id"].map(published)
        else:
            result[name] = frame
            continue
        kept = frame[when <= cutoff].reset_index(drop=True)
        if name == "claims" and "outcome_source_id" in kept:
            later = kept["outcome_source_id"].map(published) > cutoff
            for field in ("outcome", "verdict", "outcome_source_id", "outcome_other_source_id"):
                if field in kept:
                    kept[field] = kept[field].where(~later)
        result[name] = kept
    return result


# --- internals -----------------------------------------------------------------------------------


def _fingerprint(data_dir: Path) -> tuple:
    """Modification times and sizes of the package files, so edits invalidate the cache."""
    return tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(data_dir.glob("*")) if p.is_file()
    )


@lru_cache(maxsize=64)
def _load_cached(name: str, data_dir: str, _fingerprint: tuple) -> pd.DataFrame:
    package = describe(data_dir)
    resources = {r["name"]: r for r in package["resources"]}
    if name not in resources:
        msg = f"No table named {name!r} in {Path(data_dir) / PACKAGE_FILE}; known tables: {', '.join(resources)}."
        raise DataError(msg)
    resource = resources[name]
    path = Path(data_dir) / resource["path"]
    if not path.is_file():
        msg = f"{path}: file not found (declared as table {name!r} in {PACKAGE_FILE})."
        raise DataError(msg)
    _validate(name, data_dir, path)
    return _typed_frame(path, resource["schema"])


def _validate(name: str, data_dir: str, path: Path) -> None:
    """Run Frictionless on one table (with its foreign keys) and turn its report into a DataError."""
    from frictionless import Package

    package = Package(str(Path(data_dir) / PACKAGE_FILE))
    report = package.get_resource(name).validate()
    if report.valid:
        return
    errors = [error for task in report.tasks for error in task.errors] or report.errors
    # A duplicate id is reported twice (unique constraint and primary key): keep one line per row.
    unique_rows = {e.row_number for e in errors if e.type == "unique-error"}
    errors = [e for e in errors if not (e.type == "primary-key" and e.row_number in unique_rows)]
    schema = package.get_resource(name).schema.to_descriptor()
    lines = [_describe_error(path, error, schema) for error in errors[:MAX_ERRORS_SHOWN]]
    more = len(errors) - MAX_ERRORS_SHOWN
    if more > 0:
        lines.append(f"... and {more} more problem(s) in {path.name}.")
    raise DataError("\n".join(lines))


def _describe_error(path: Path, error, schema: dict) -> str:
    """One line per problem: file, row, column, what is wrong (and what was expected)."""
    where = [str(path)]
    if getattr(error, "row_number", None) is not None:
        where.append(f"row {error.row_number}")
    column = getattr(error, "field_name", None) or ", ".join(getattr(error, "field_names", None) or [])
    if column:
        where.append(f"column {column!r}")
    return ", ".join(where) + ": " + _reason(error, column, schema)


def _reason(error, column: str, schema: dict) -> str:
    field = next((f for f in schema["fields"] if f["name"] == column), {})
    cell = getattr(error, "cell", None)
    note = getattr(error, "note", "") or ""
    if error.type == "type-error":
        expected = {"date": "a date (YYYY-MM-DD)", "integer": "a whole number", "number": "a number"}
        return f"cannot read {cell!r} as {expected.get(field.get('type'), field.get('type', 'a value'))}"
    if error.type == "constraint-error":
        constraints = field.get("constraints", {})
        if '"required"' in note:
            return "missing required value"
        if '"enum"' in note:
            return f"{cell!r} is not an allowed value; expected one of {constraints.get('enum')}"
        return f"{cell!r} breaks a rule of the schema ({note})"
    if error.type in {"unique-error", "primary-key"}:
        return f"duplicate key {cell!r}: {note}" if cell else f"duplicate key: {note}"
    if error.type == "foreign-key":
        reference = getattr(error, "reference_name", "") or "the referenced table"
        return f"unknown id, not found in {reference}.csv ({note})"
    if error.type == "incorrect-label":
        return f"header says {getattr(error, 'label', '?')!r} where datapackage.json expects {column!r}"
    if error.type == "missing-label":
        return "column missing from the header row"
    if error.type == "extra-label":
        return "column not described in datapackage.json"
    return f"{error.title.lower()}: {note}" if note else error.title.lower()


def _typed_frame(path: Path, schema: dict) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    for field in schema["fields"]:
        column, kind = field["name"], field.get("type", "string")
        if kind == "date":
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d")
        elif kind == "integer":
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        elif kind == "number":
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        elif kind == "boolean":
            frame[column] = frame[column].map({"true": True, "false": False}).astype("boolean")
    return frame
