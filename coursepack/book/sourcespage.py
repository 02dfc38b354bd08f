"""Render the "Sources and data" book page from ``data/datapackage.json`` and ``sources.csv``.

Why generated: the page lists each table's description, fields and row count, and every source with
its link, so it can never drift from the data it documents.
"""
from __future__ import annotations

import html

from coursepack.lessons import data


def _cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The page as MyST Markdown."""
    package = data.describe()
    tables = data.load_all()
    lines = [
        "(sources-and-data)=",
        "# Sources and data",
        "",
        package["description"],
        "Disputed figures appear once per claimant; ranges use `low` and `high` columns.",
        "This page is generated from `data/datapackage.json` each time the book is built.",
        "",
        "{download}`Download every table with its datapackage.json (zip) <coursepack-data.zip>`",
        "",
        "## Tables",
        "",
    ]
    for resource in package["resources"]:
        name = resource["name"]
        lines += [
            f"### `{resource['path']}`",
            "",
            f"{resource.get('description', '')} **{len(tables[name])} rows.**",
            "",
            "| Column | Type | Meaning |",
            "|---|---|---|",
        ]
        for field in resource["schema"]["fields"]:
            allowed = field.get("constraints", {}).get("enum")
            meaning = field.get("description", "") + (f" Allowed: {', '.join(allowed)}." if allowed else "")
            lines.append(f"| `{field['name']}` | {field.get('type', 'string')} | {_cell(meaning)} |")
        lines.append("")
    sources = tables["sources"].sort_values(["date", "publisher"])
    lines += [
        "## Every source",
        "",
        f"{len(sources)} sources, oldest first. The kinds (official, wire, news, analysis, state media, reference) "
        "are defined in the {ref}`codebook <codebook>`; the notes say where a date is uncertain or why a copy is used.",
        "",
        "| Date | Publisher | Title | Kind | Id | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for row in sources.itertuples():
        # Raw HTML, not a Markdown link: MyST escapes "&" in link targets twice inside tables.
        title = f'<a href="{html.escape(row.url)}">{_cell(html.escape(row.title))}</a>'
        notes = " ".join(note for note in (row.date_note, row.note) if isinstance(note, str))
        lines.append(f"| {row.date:%Y-%m-%d} | {_cell(row.publisher)} | {title} | {row.kind} | `{row.id}` | {_cell(notes)} |")
    lines.append("")
    return "\n".join(lines)
