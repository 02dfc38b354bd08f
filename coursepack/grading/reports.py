"""The gradebook and the feedback: one CSV row and one Markdown page per graded submission."""
from __future__ import annotations

import csv
import hashlib
import os
import re
import threading
from pathlib import Path

from coursepack.grading.exercises import ExerciseSet
from coursepack.grading.grader import Result


def file_cell(name: str) -> str:
    """The ``file`` cell a submission's row has (the key a resumed run finds it by)."""
    return _cell(name)


def _cell(text) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _points(value) -> str:
    return "" if value is None else f"{value:g}"


def gradebook_header(sets: dict[str, ExerciseSet]) -> list[str]:
    """The gradebook's columns: one per question of every set, then totals, status, sandbox, flags..."""
    questions = list(dict.fromkeys(q.name for s in sets.values() for q in s.questions))
    return ["student", "exercise_set", "file", *questions, "total", "possible", "manual_possible",
            "status", "sandbox", "flags", "message", "sha256"]


def gradebook_row(r: Result, header: list[str]) -> list[str]:
    """One result as a gradebook row (``sandbox`` says how the code ran: namespaces+seccomp, or not run)."""
    questions = header[3:header.index("total")]
    return [_cell(r.student), r.exercise_set, _cell(r.file), *(_points(r.scores.get(q)) for q in questions),
            _points(r.total), _points(r.possible), _points(r.manual_possible), r.status, r.isolation or "not run",
            " ".join(r.flags), _cell(" | ".join(r.problems)[:1000]), r.sha256[:16]]


def read_gradebook(path: Path, header: list[str]) -> dict[str, dict]:
    """Rows of an earlier, possibly interrupted run by file, if it has the same columns (else none)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            if next(reader, None) != header:
                return {}
            rows = {}
            for values in reader:
                if len(values) == len(header):  # a row cut short by a kill is graded again
                    rows[values[2]] = values  # the file cell, as written by :func:`gradebook_row`
            return rows
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}


class GradebookAppender:
    """Appends each row as soon as its submission is graded, so that a killed batch keeps what it graded."""

    def __init__(self, path: Path, header: list[str], keep: list[list[str]]):
        self.path, self.header, self.lock = path, header, threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:  # rows kept from the run before, first
            csv.writer(handle).writerows([header, *keep])

    def add(self, result: Result) -> None:
        with self.lock, open(self.path, "a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(gradebook_row(result, self.header))
            handle.flush()
            os.fsync(handle.fileno())


def write_gradebook(results: list[Result], path: Path, sets: dict[str, ExerciseSet],
                    kept: list[list[str]] = ()) -> None:
    """One row per submission (``kept``: rows already written by an interrupted run), sorted, written atomically."""
    header = gradebook_header(sets)
    rows = [gradebook_row(r, header) for r in results] + [list(k) for k in kept]
    rows.sort(key=lambda row: (row[1], row[0], row[2]))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    os.replace(partial, path)


def feedback_names(entries: list[tuple[str, str, str]]) -> dict[str, str]:
    """Feedback file name for each ``(file, student, set)``: ``<student>_<set>.md``, unique and stable.

    Letters of any script are kept; anything else that a file system could mind becomes ``-``. Where
    two names would be the same (after case folding) or a name had to be cut, a short hash of the
    submission's file name is added, so a name depends only on that file and its neighbours' names.
    """
    base = {}
    for file, student, set_name in entries:
        stem = f"{student}_{set_name}" if set_name else Path(file).stem
        safe = re.sub(r"[^\w.-]+", "-", stem).strip(".-") or "submission"
        base[file] = (safe[:100], len(safe) > 100)
    counts: dict[str, int] = {}
    for safe, _ in base.values():
        counts[safe.casefold()] = counts.get(safe.casefold(), 0) + 1
    names = {}
    for file, (safe, cut) in base.items():
        if cut or counts[safe.casefold()] > 1:
            safe += "-" + hashlib.sha256(file.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        names[file] = safe + ".md"
    return names


def feedback_name(result: Result) -> str:
    """File name of one submission's feedback, alone (see :func:`feedback_names` for a batch)."""
    return feedback_names([(result.file, result.student, result.exercise_set)])[result.file]


def render_feedback(result: Result, sets: dict[str, ExerciseSet]) -> str:
    """Markdown feedback for one submission."""
    lines = [f"# Feedback: {result.exercise_set or 'unknown exercise set'}", "",
             f"- Student: {result.student}", f"- File: {result.file}",
             f"- Status: **{result.status}**", f"- Sandbox: {result.isolation or 'not run'}", f"- Auto-graded points: **{result.total:g} / {result.possible:g}**"]
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


def write_feedback(results: list[Result], folder: Path, sets: dict[str, ExerciseSet],
                   names: dict[str, str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    names = names or feedback_names([(r.file, r.student, r.exercise_set) for r in results])
    for r in results:
        (folder / names[r.file]).write_text(render_feedback(r, sets), encoding="utf-8")
