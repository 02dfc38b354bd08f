"""The codebook of the data package (``data/codebook.yml``): every tag, its rule, an example row.

Why one file: the book's codebook page is rendered from it, and :func:`problems` checks it against
``datapackage.json`` and the tables, so a tag cannot be used without a definition, defined without being
allowed, or given an example that does not carry it. :func:`problems` also applies the codebook's
compatibility rules between tables (a statement and the exchange it reports must not call one report by two
different kinds).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from coursepack.lessons import data

CODEBOOK_FILE = "codebook.yml"
BOOK = Path(__file__).resolve().parents[2] / "book"


def load(data_dir: Path | str = data.DATA_DIR) -> dict:
    """The parsed codebook."""
    return yaml.safe_load((Path(data_dir) / CODEBOOK_FILE).read_text(encoding="utf-8"))


def tags(codebook: dict, table: str, field: str) -> dict[str, dict]:
    """``{tag: {"rule": ..., "example": ...}}`` for one field, following ``vocabulary`` and ``same_as``."""
    entry = codebook["tables"][table][field]
    if "vocabulary" in entry:
        return codebook["vocabularies"][entry["vocabulary"]]["values"]
    if "same_as" in entry:
        return tags(codebook, table, entry["same_as"])
    return entry["values"]


def enums(package: dict) -> dict[tuple[str, str], list[str]]:
    """Every field of the package that has allowed values: ``{(table, field): values}``."""
    return {(resource["name"], field["name"]): field["constraints"]["enum"]
            for resource in package["resources"] for field in resource["schema"]["fields"]
            if "enum" in field.get("constraints", {})}


def problems(data_dir: Path | str = data.DATA_DIR) -> list[str]:
    """Every way the codebook and the data disagree, one sentence each (empty when they agree)."""
    codebook, tables = load(data_dir), data.load_all(data_dir)
    allowed = enums(data.describe(data_dir))
    found = _definitions(codebook, allowed)
    found += _examples(codebook, allowed, tables)
    found += _statements_and_exchanges(codebook["compatibility"]["statement_exchange"]["allowed"], tables)
    found += _signposts_and_exchanges(codebook["compatibility"]["signpost_exchange"]["allowed"], tables)
    found += _claims_and_statements(codebook["compatibility"]["claim_statement"], tables)
    return found


def render(data_dir: Path | str = data.DATA_DIR) -> str:
    """The codebook page, as MyST Markdown."""
    codebook = load(data_dir)
    lines = ["(codebook)=", "# Codebook", "", codebook["principles"], "",
             "Every tag used in the data tables is defined here, with the rule that decides it and an example row. "
             "This page is generated from `data/codebook.yml` each time the book is built; the tests check it against "
             "`data/datapackage.json` and the tables. The tables themselves are described in {doc}`sources-and-data`.",
             ""]
    if (BOOK / "actors.md").exists():
        lines += ["The people behind the actors' names are introduced on the {doc}`../actors` page.", ""]
    shown_vocabularies = set()
    for table, fields in codebook["tables"].items():
        if not fields:
            continue
        lines += [f"## `{table}.csv`", ""]
        for field, entry in fields.items():
            if "same_as" in entry:
                lines += [f"**`{field}`** takes the same tags as `{entry['same_as']}` (optional: a second act in the same statement).", ""]
                continue
            if "vocabulary" in entry and entry["vocabulary"] in shown_vocabularies:
                lines += [f"**`{field}`** takes the {entry['vocabulary']} tags defined above under `{_home(codebook, entry['vocabulary'])}`.", ""]
                continue
            description = (codebook["vocabularies"][entry["vocabulary"]]["description"] if "vocabulary" in entry
                           else entry["description"])
            if "vocabulary" in entry:
                shown_vocabularies.add(entry["vocabulary"])
            lines += [f"**`{field}`**: {description}", "", "| Tag | Rule | Example row |", "|---|---|---|"]
            for tag, definition in tags(codebook, table, field).items():
                example = f"`{definition['example']}`" if definition["example"] else "none yet"
                lines.append(f"| {_cell(tag)} | {_cell(definition['rule'])} | {example} |")
            lines.append("")
    lines += ["## Rules between tables", ""]
    rules = codebook["compatibility"]
    for name in ("statement_exchange", "signpost_exchange"):
        lines += [rules[name]["description"], "", "| Tag | Compatible with |", "|---|---|"]
        lines += [f"| {tag} | {', '.join(partners)} |" for tag, partners in rules[name]["allowed"].items()]
        lines.append("")
    lines += [rules["claim_statement"]["description"], ""]
    return "\n".join(lines)


# --- internals -----------------------------------------------------------------------------------


def _home(codebook: dict, vocabulary: str) -> str:
    """The first ``table.field`` whose section shows the shared ``vocabulary``."""
    return next(f"{table}.{field}" for table, fields in codebook["tables"].items() for field, entry in fields.items()
                if entry.get("vocabulary") == vocabulary)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _definitions(codebook: dict, allowed: dict) -> list[str]:
    """Enum values with no codebook entry, and codebook entries that no enum allows."""
    found = []
    for (table, field), values in allowed.items():
        if field not in codebook["tables"].get(table, {}):
            found.append(f"{table}.{field} has allowed values in datapackage.json but no entry in {CODEBOOK_FILE}.")
            continue
        defined = tags(codebook, table, field)
        found += [f"{table}.{field}: tag {v!r} is allowed in datapackage.json but not defined in {CODEBOOK_FILE}."
                  for v in values if v not in defined]
        if "vocabulary" not in codebook["tables"][table][field]:
            found += [f"{table}.{field}: {CODEBOOK_FILE} defines {v!r}, which datapackage.json does not allow."
                      for v in defined if v not in values]
    for table, fields in codebook["tables"].items():
        found += [f"{table}.{field}: {CODEBOOK_FILE} has an entry, but datapackage.json gives the field no allowed values."
                  for field in fields if (table, field) not in allowed]
    for name, vocabulary in codebook["vocabularies"].items():
        used = set().union(*(values for (table, field), values in allowed.items()
                             if codebook["tables"].get(table, {}).get(field, {}).get("vocabulary") == name))
        found += [f"vocabulary {name}: {v!r} is defined in {CODEBOOK_FILE} but no field allows it."
                  for v in vocabulary["values"] if v not in used]
        found += [f"vocabulary {name}: {v!r} is allowed in datapackage.json but not defined in {CODEBOOK_FILE}."
                  for v in used if v not in vocabulary["values"]]
    return found


def _examples(codebook: dict, allowed: dict, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Examples that do not exist or do not carry their tag, and tags in use that have no example."""
    found = []
    for (table, field), values in allowed.items():
        entry = codebook["tables"].get(table, {}).get(field)
        if entry is None or "same_as" in entry or "vocabulary" in entry:
            continue  # vocabulary examples are checked once below, wherever they point
        for tag, definition in tags(codebook, table, field).items():
            if tag not in values:
                continue
            example = definition["example"]
            used = tables[table][field].eq(tag).any()
            if example is None:
                if used:
                    found.append(f"{table}.{field}: tag {tag!r} is used but its codebook entry has no example row.")
                continue
            rows = tables[table].loc[tables[table]["id"] == example, field]
            if rows.empty:
                found.append(f"{table}.{field}: the example of {tag!r}, {example!r}, is not a row of {table}.csv.")
            elif rows.iloc[0] != tag:
                found.append(f"{table}.{field}: the example of {tag!r}, {example!r}, is tagged {rows.iloc[0]!r}.")
    for name, vocabulary in codebook["vocabularies"].items():
        fields = [(t, f) for t, fs in codebook["tables"].items() for f, e in fs.items() if e.get("vocabulary") == name]
        for tag, definition in vocabulary["values"].items():
            table, _, row_id = (definition["example"] or "::").partition(":")
            field = next((f for t, f in fields if t == table), None)
            rows = tables[table].loc[tables[table]["id"] == row_id, field] if field else pd.Series(dtype=str)
            if rows.empty or rows.iloc[0] != tag:
                found.append(f"vocabulary {name}: the example of {tag!r}, {definition['example']!r}, is not a row "
                             f"of a table using the vocabulary that carries {tag!r}.")
    return found


def _person(text: str) -> str:
    """The name part of a speaker or claimant: the words before any comma or bracket, lower-cased."""
    return re.split(r"[,(]", str(text))[0].strip().lower()


def _statements_and_exchanges(rule: dict, tables: dict[str, pd.DataFrame]) -> list[str]:
    statements = tables["statements"].set_index("id")
    exchanges = tables["exchanges"]
    found = []
    for row in exchanges.itertuples():
        if pd.isna(row.statement_id):
            matches = statements[(statements["source_id"] == row.source_id)
                                 & (statements["speaker"].map(_person) == _person(row.claimant))]
            found += [f"exchanges {row.id} and statements {sid} report the same person in the same source; link them "
                      f"with statement_id so the codebook's compatibility rule applies." for sid in matches.index]
            continue
        act = statements.loc[row.statement_id, "speech_act"]
        if row.status not in rule.get(act, []):
            found.append(f"exchanges {row.id} is {row.status!r} but its statement {row.statement_id} "
                         f"{act!r}; the codebook allows {rule.get(act, [])} for that act.")
    return found


def _signposts_and_exchanges(rule: dict, tables: dict[str, pd.DataFrame]) -> list[str]:
    status = tables["exchanges"].set_index("id")["status"]
    return [f"signposts {row.id} is {row.status!r} but rests on exchanges {row.exchange_id}, which is "
            f"{status[row.exchange_id]!r}; the codebook allows {rule[status[row.exchange_id]]}."
            for row in tables["signposts"].dropna(subset=["exchange_id"]).itertuples()
            if row.status not in rule[status[row.exchange_id]]]


def _claims_and_statements(rule: dict, tables: dict[str, pd.DataFrame]) -> list[str]:
    act = tables["statements"].set_index("id")["speech_act"]
    found = []
    for row in tables["claims"].dropna(subset=["statement_id"]).itertuples():
        expected = rule["asserts"] if act[row.statement_id] == "asserts" else rule["otherwise"]
        if row.kind != expected:
            found.append(f"claims {row.id} is a {row.kind!r} but reports statements {row.statement_id}, which "
                         f"{act[row.statement_id]!r}; the codebook makes it a {expected!r}.")
    return found
