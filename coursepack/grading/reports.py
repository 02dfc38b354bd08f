"""The gradebook and the feedback: one CSV row and one Markdown page per graded submission."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from coursepack.grading.exercises import ExerciseSet
from coursepack.grading.grader import Result


def _cell(text) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _points(value) -> str:
    return "" if value is None else f"{value:g}"


def write_gradebook(results: list[Result], path: Path, sets: dict[str, ExerciseSet]) -> None:
    """One row per submission: points per question, total, possible, status, flags, message."""
    questions = list(dict.fromkeys(q.name for s in sets.values() for q in s.questions))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "exercise_set", "file", *questions, "total", "possible", "manual_possible",
                         "status", "flags", "message", "sha256"])
        for r in sorted(results, key=lambda r: (r.exercise_set, r.student, r.file)):
            writer.writerow([_cell(r.student), r.exercise_set, _cell(r.file),
                             *(_points(r.scores.get(q)) for q in questions),
                             _points(r.total), _points(r.possible), _points(r.manual_possible), r.status,
                             " ".join(r.flags), _cell(" | ".join(r.problems)[:1000]), r.sha256[:16]])


def feedback_name(result: Result) -> str:
    """File name of a student's feedback: ``<student>_<set>.md`` (made safe for any file system)."""
    stem = f"{result.student}_{result.exercise_set}" if result.exercise_set else Path(result.file).stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip(".-")[:120] + ".md"


def render_feedback(result: Result, sets: dict[str, ExerciseSet]) -> str:
    """Markdown feedback for one submission."""
    lines = [f"# Feedback: {result.exercise_set or 'unknown exercise set'}", "",
             f"- Student: {result.student}", f"- File: {result.file}",
             f"- Status: **{result.status}**", f"- Auto-graded points: **{result.total:g} / {result.possible:g}**"]
    if result.manual_possible:
        lines.append(f"- Written answers: {result.manual_possible:g} points, marked by your teacher")
    if result.problems:
        lines += ["", "## Notes from the grader", ""] + [f"- {p}" for p in result.problems]
    exercise = sets.get(result.exercise_set)
    if exercise:
        lines += ["", "## Questions", "", "| Question | Points | |", "|---|---|---|"]
        for q in exercise.questions:
            got = "to be marked" if q.manual else f"{result.scores.get(q.name, 0):g} / {q.points:g}"
            ok = "written" if q.manual else ("all checks passed" if not result.failures.get(q.name) else "see below")
            lines.append(f"| {q.name} | {got} | {ok} |")
        for name, messages in result.failures.items():
            lines += ["", f"### {name}: what did not pass", ""] + [f"- {m}" for m in messages]
        for q in exercise.questions:
            if q.manual:
                answer = result.written.get(q.name) or "_(no answer)_"
                lines += ["", f"## {q.name}: written answer (for the human grader, {q.points:g} points)", "", answer]
    return "\n".join(lines) + "\n"


def write_feedback(results: list[Result], folder: Path, sets: dict[str, ExerciseSet]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        (folder / feedback_name(r)).write_text(render_feedback(r, sets), encoding="utf-8")
