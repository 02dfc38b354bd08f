"""The instructor guide's rubric page, gathered from the exercise sets.

Why generated: each written question's rubric lives once, beside its model answer in the exercise
notebook; the instructor edition shows them all on one page, and the learner edition never does.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def written_questions(exercise_notebook: Path) -> list[tuple[str, str]]:
    """(question text, model answer and rubric) for each manually graded question of a notebook."""
    cells = json.loads(exercise_notebook.read_text(encoding="utf-8"))["cells"]
    found, question, manual = [], None, False
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and "BEGIN QUESTION" in text:
            manual, question = "manual: true" in text, None
        elif manual and cell["cell_type"] == "markdown" and question is None and "**Question" in text:
            question = text
        elif manual and cell["cell_type"] == "markdown" and "Rubric" in text:
            found.append((question or "", text))
            manual = False
    return found


def render() -> str:
    """The rubrics page as MyST Markdown."""
    lines = ["(rubrics)=", "# Rubrics for the written questions", "",
             "Each written answer is marked by the instructor. The batch grader gathers every student's written "
             "answers into their feedback file; mark them against the rubric below.", ""]
    for notebook in sorted((ROOT / "exercises").glob("*.ipynb")):
        for question, rubric in written_questions(notebook):
            lines += [f"## {notebook.stem}", "", "```{admonition} The question", ":class: note", question.strip(),
                      "```", "", rubric.strip(), ""]
    return "\n".join(lines)
