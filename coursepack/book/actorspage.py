"""The actors page: every person and body the tables name, one line each, from ``data/actors.csv``.

Why generated: the speakers, claimants, publishers, pollsters and authors are spread over many tables and
written with titles and occasions ("Lloyd Austin, Secretary of Defense (in Fiji)"). The page lists each
actor once, and ``tests/test_actors.py`` fails when a table names someone the page does not list.
"""
from __future__ import annotations

import re

from coursepack.lessons import data

#: The columns of the other tables that name a person or body.
NAME_COLUMNS = ("speaker", "claimant", "publisher", "pollster", "author")
KINDS = ("person", "government body", "international body", "news outlet", "research or reference")
HEADINGS = {"person": "People", "government body": "Government bodies", "international body": "International bodies",
            "news outlet": "News outlets", "research or reference": "Research and reference"}


def actor_key(text: str) -> str:
    """The actor a name refers to: its text before the first comma, without words in brackets."""
    return re.sub(r"\s*\([^)]*\)", "", text).split(", ")[0].strip()


def named_in_data() -> dict[str, set[str]]:
    """Every name in the tables' name columns, by the actor it refers to, with the table.column it appears in."""
    actors = set(data.load("actors")["name"])
    found: dict[str, set[str]] = {}
    for resource in data.describe()["resources"]:
        if resource["name"] == "actors":
            continue
        table = data.load(resource["name"])
        for column in NAME_COLUMNS:
            if column not in table:
                continue
            for value in table[column].dropna():
                key = value if value in actors else actor_key(value)
                found.setdefault(key, set()).add(f"{resource['name']}.{column}")
    return found


def render() -> str:
    actors = data.load("actors")
    uses = named_in_data()
    lines = [
        "(actors)=",
        "# Actors",
        "",
        "Every person and body that the data tables name as a speaker, claimant, publisher, pollster or author, one",
        "line each. The table is generated from `data/actors.csv`; the test suite fails when a table names someone",
        "this page does not list. The lines identify; they do not judge. Titles are as of 2024 unless a line says",
        "otherwise. Terms are explained in the {doc}`../glossary`.",
        "",
    ]
    for kind in KINDS:
        group = actors[actors["kind"] == kind].sort_values("name", key=lambda s: s.str.lower())
        if group.empty:
            continue
        lines += [f"## {HEADINGS[kind]}",
                  "", "| Actor | Of | Who they are | Named in |", "|---|---|---|---|"]
        for row in group.itertuples():
            tables = ", ".join(f"`{t}`" for t in sorted(uses.get(row.name, [])))
            lines.append(f"| **{row.name}** | {row.country} | {row.description} | {tables} |")
        lines.append("")
    return "\n".join(lines)
