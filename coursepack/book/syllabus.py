"""Learning objectives and the exercise questions that assess them, from ``book/objectives.yml``.

Why one file: the syllabus page is generated from it and the test suite checks it against the chapters
and the exercise sets, so the page and the exercises cannot drift apart.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from coursepack.grading.exercises import question_configs

ROOT = Path(__file__).resolve().parents[2]
OBJECTIVES = ROOT / "book" / "objectives.yml"


def chapters() -> list[dict]:
    """The chapters with their objectives, as listed in ``book/objectives.yml``."""
    return yaml.safe_load(OBJECTIVES.read_text(encoding="utf-8"))["chapters"]


def question_names(exercise_notebook: Path) -> list[str]:
    """Names of the questions in an otter-grader assign notebook (``# BEGIN QUESTION`` cells)."""
    return [config["name"] for config in question_configs(exercise_notebook)]


def render() -> str:
    """The objectives table of the syllabus page, as MyST Markdown."""
    lines = ["| Chapter | Objective | Assessed by (exercise questions) |", "|---|---|---|"]
    for chapter in chapters():
        set_name = Path(chapter["exercises"]).stem
        for objective in chapter["objectives"]:
            questions = ", ".join(f"`{q}`" for q in objective["assessed_by"])
            lines.append(f"| {chapter['title']} | {objective['text']} | {set_name}: {questions} |")
    return "\n".join(lines) + "\n"
