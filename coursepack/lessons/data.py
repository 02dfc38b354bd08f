"""Load the course pack's evidence tables, validated against ``data/datapackage.json``.

Every table is a CSV file described in a Frictionless Data Package: field types, required fields,
allowed values, primary keys and foreign keys to ``sources.csv``. :func:`load` checks a table against
those rules and returns it as a typed pandas DataFrame, or raises :class:`DataError` naming the file,
the row and the column of the first problems found. A table is never returned half-loaded.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
PACKAGE_FILE = "datapackage.json"
MAX_ERRORS_SHOWN = 5

#: Reference tables that hold no claims (coordinates of places, legal texts): :func:`as_of` keeps them whole.
TIMELESS = {"places", "legal_instruments"}

#: Files of the package whose bytes make up its :func:`digest` (``CHANGELOG.md``, which records the digest, is not one).
DIGESTED = ("*.csv", PACKAGE_FILE, "codebook.yml")

#: The column that says when each row became public, for :func:`as_of`.
#: Tables not listed here are filtered by the publication date of their source.
REPORTED_ON = {
    "events": "date_reported",  # falls back to "date" where empty
    "troop_estimates": "date",
    "russian_casualties": "date_reported",
    "nk_casualties": "date_reported",
    "statements": "date",
    "exchanges": "date_reported",
    "polls": "date_reported",
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
        if name in TIMELESS:
            result[name] = frame
            continue
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


def freshness(data_dir: Path | str = DATA_DIR) -> tuple[pd.Timestamp, str]:
    """The newest date in any evidence row, and the version of the data package.

    Why computed: a chapter's "data as of" line must move when a row is added, without anyone retyping it. Sources
    and reference tables are left out: their dates are publication or consultation dates, not developments.

    Examples
    --------
    >>> newest, version = freshness()
    >>> newest >= pd.Timestamp("2024-10-29") and version.count(".") == 2
    True
    """
    newest = pd.Timestamp.min
    for name, frame in load_all(data_dir).items():
        if name == "sources" or name in TIMELESS:
            continue
        for column in frame.select_dtypes("datetime").columns:
            newest = max(newest, frame[column].max())
    return newest, describe(data_dir)["version"]


def freshness_line(data_dir: Path | str = DATA_DIR) -> str:
    """One sentence for the top of a chapter: how recent the data are, and which version of them."""
    newest, version = freshness(data_dir)
    return (f"Data as of {newest.day} {newest:%B %Y} (data package version {version}; changes are listed in "
            "`data/CHANGELOG.md`). Anything dated after 29 October 2024 is later than the analysis.")


def digest(data_dir: Path | str = DATA_DIR) -> str:
    """SHA-256 of the package's tables, descriptor and codebook, with line endings normalised.

    Why: ``data/CHANGELOG.md`` records this digest with each version, and a test compares it with the files, so a
    data change cannot go out without a new version and a dated entry saying what changed.
    """
    hasher = hashlib.sha256()
    folder = Path(data_dir)
    for path in sorted({p for pattern in DIGESTED for p in folder.glob(pattern)}):
        hasher.update(path.name.encode() + b"\0" + path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return hasher.hexdigest()


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
    path = _path(resource, data_dir)
    raw = _read_text_table(path)
    problems = _check(raw, resource["schema"], resources, data_dir)
    if problems:
        shown = [f"{path}, {problem}" for problem in problems[:MAX_ERRORS_SHOWN]]
        if len(problems) > MAX_ERRORS_SHOWN:
            shown.append(f"... and {len(problems) - MAX_ERRORS_SHOWN} more problem(s) in {path.name}.")
        raise DataError("\n".join(shown))
    return _typed_frame(raw, resource["schema"])


def _path(resource: dict, data_dir: str) -> Path:
    path = Path(data_dir) / resource["path"]
    if not path.is_file():
        msg = f"{path}: file not found (declared as table {resource['name']!r} in {PACKAGE_FILE})."
        raise DataError(msg)
    return path


def _read_text_table(path: Path) -> pd.DataFrame:
    """Every cell as text ("" for empty), so nothing is converted before it is checked."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        msg = f"{path}: not a readable UTF-8 CSV file ({err})."
        raise DataError(msg) from None


# Why a checker of our own: it applies the Frictionless Table Schema rules this package uses (types,
# required, enum, pattern, minimum/maximum, unique, primary and foreign keys) in milliseconds, where
# Frictionless itself needs seconds to start in every notebook. The test suite still runs Frictionless
# over the whole package, so the two cannot drift apart unnoticed.
_PARSERS = {
    "date": lambda v: pd.to_datetime(v, format="%Y-%m-%d", errors="coerce"),
    "integer": lambda v: pd.to_numeric(v.where(v.str.fullmatch(r"[+-]?\d+")), errors="coerce"),
    "number": lambda v: pd.to_numeric(v, errors="coerce"),
    "boolean": lambda v: v.map({"true": True, "false": False}),
}
_EXPECTED = {"date": "a date (YYYY-MM-DD)", "integer": "a whole number", "number": "a number",
             "boolean": "true or false"}


def _check(raw: pd.DataFrame, schema: dict, resources: dict, data_dir: str) -> list[str]:
    """Every way ``raw`` breaks ``schema``, as "row N, column 'c': what is wrong" strings."""
    names = [field["name"] for field in schema["fields"]]
    header = list(raw.columns)
    problems = [f"column {c!r}: column missing from the header row" for c in names if c not in header]
    problems += [f"column {c!r}: column not described in datapackage.json" for c in header if c not in names]
    if problems:
        return problems
    row = raw.index + 2  # spreadsheet numbering: the header is row 1
    found = []  # (row, column order, message)
    for order, field in enumerate(schema["fields"]):
        column, kind = field["name"], field.get("type", "string")
        rules = field.get("constraints", {})
        text = raw[column]
        empty = text == ""

        def report(mask, message, order=order, column=column, text=text):
            found.extend((r, order, f"row {r}, column {column!r}: " + message(v)) for r, v in zip(row[mask], text[mask]))

        if rules.get("required"):
            report(empty, lambda v: "missing required value")
        value = _PARSERS[kind](text) if kind in _PARSERS else text
        unreadable = ~empty & value.isna()
        report(unreadable, lambda v, kind=kind: f"cannot read {v!r} as {_EXPECTED[kind]}")
        ok = ~empty & ~unreadable
        if "enum" in rules:
            report(ok & ~text.isin(rules["enum"]), lambda v, allowed=rules["enum"]:
                   f"{v!r} is not an allowed value; expected one of {allowed}")
        if "pattern" in rules:
            report(ok & ~text.str.fullmatch(rules["pattern"]), lambda v, pattern=rules["pattern"]:
                   f"{v!r} breaks a rule of the schema (it must match the pattern {pattern!r})")
        for bound, outside in (("minimum", lambda a, b: a < b), ("maximum", lambda a, b: a > b)):
            if bound in rules:
                limit = _PARSERS.get(kind, lambda v: v)(pd.Series([str(rules[bound])])).iloc[0]
                report(ok & outside(value, limit).fillna(False).astype(bool), lambda v, bound=bound, limit=rules[bound]:
                       f"{v!r} breaks a rule of the schema (its {bound} is {limit})")
        if rules.get("unique"):
            report(ok & text.duplicated(keep="first"), lambda v: f"duplicate key {v!r}: the same value is in an earlier row")
    key = schema.get("primaryKey", [])
    single_unique = len(key) == 1 and next(f for f in schema["fields"] if f["name"] == key[0]).get("constraints", {}).get("unique")
    if key and not single_unique:
        duplicated = raw.duplicated(key, keep="first")
        found.extend((r, -1, f"row {r}, column {', '.join(key)!r}: duplicate key: the same as an earlier row")
                     for r in row[duplicated])
    for foreign in schema.get("foreignKeys", []):
        column, reference = foreign["fields"], foreign["reference"]
        target = resources[reference["resource"]]
        known = set(_read_text_table(_path(target, data_dir))[reference["fields"]])
        unknown = (raw[column] != "") & ~raw[column].isin(known)
        found.extend((r, names.index(column), f"row {r}, column {column!r}: unknown id {v!r}, not found in "
                      f"{target['path']}") for r, v in zip(row[unknown], raw[column][unknown]))
    return [message for _, _, message in sorted(found, key=lambda item: item[:2])]


def _typed_frame(raw: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """Convert checked text columns to their declared types; empty cells become missing values."""
    frame = raw.replace("", None)
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
        else:
            frame[column] = frame[column].astype("str")
    return frame
