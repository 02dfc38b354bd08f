"""The instructor guide's rubric page, gathered from the exercise sets.

Why generated: each written question's rubric lives once, beside its model answer in the exercise
notebook; the instructor edition shows them all on one page, and the learner edition never does.
"""
from __future__ import annotations

from pathlib import Path

from coursepack.grading.exercises import cell_source, exercise_sources, question_blocks


def written_questions(exercise_notebook: Path) -> list[tuple[str, str]]:
    """(question text, model answer and rubric) for each manually graded question of a notebook."""
    found = []
    for config, cells in question_blocks(exercise_notebook):
        if not config.get("manual"):
            continue
        texts = [cell_source(cell) for cell in cells if cell["cell_type"] == "markdown"]
        question = next((text for text in texts if "**Question" in text), "")
        rubrics = [text for text in texts if "Rubric" in text and text != question]
        if rubrics:
            found.append((question, rubrics[0]))
    return found


def render() -> str:
    """The rubrics page as MyST Markdown."""
    lines = ["(rubrics)=", "# Rubrics for the written questions", "",
             "Each written answer is marked by the instructor. The batch grader gathers every student's written "
             "answers into their feedback file; mark them against the rubric below.", ""]
    for notebook in exercise_sources():
        for question, rubric in written_questions(notebook):
            lines += [f"## {notebook.stem}", "", "```{admonition} The question", ":class: note", question.strip(),
                      "```", "", rubric.strip(), ""]
    return "\n".join(lines)
