"""The command line: a folder of submissions graded a few at a time, with progress shown, into a gradebook.

``python -m coursepack.grading FOLDER`` (``make grade SUBMISSIONS=FOLDER``) grades every ``.ipynb`` in
FOLDER against its exercise set and writes ``_build/grades/gradebook.csv`` (one row per submission) and
``_build/grades/feedback/<student>_<set>.md`` (failed checks and why, plus the written answers for the
human grader).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from coursepack.grading.exercises import ExerciseSet, set_names
from coursepack.grading.grader import NOTEBOOK_TIME_LIMIT, STATUSES, Grader, Result, SandboxUnavailable, match
from coursepack.grading.reports import (GradebookAppender, feedback_names, file_cell, gradebook_header,
                                        read_gradebook, write_feedback, write_gradebook)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "_build" / "grades"


def discover(folder: Path, names, skip: tuple[Path, ...] = ()) -> list[tuple[Path, str, str | None]]:
    """Everything in ``folder`` that is or looks like a submission: ``(path, name, student)``.

    That is every entry whose name ends in ``.ipynb`` in any case (``.IPYNB``), whatever it is (a
    file, a folder, a FIFO, a symbolic link, dangling or not), and every other file or link that
    names an exercise set; subfolders are searched (not through links), and a file in one is named
    by its path (``alice/01-the-deployment.ipynb``, student ``alice`` if the file name gives none).
    ``.ipynb_checkpoints`` folders and ``skip`` (the output folder) are left out.
    """
    found = []

    def walk(directory: Path, parts: tuple[str, ...]) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name == ".ipynb_checkpoints" or path.resolve() in skip:
                continue
            name = "/".join((*parts, entry.name))
            looks = entry.name.lower().endswith(".ipynb")
            if entry.is_dir(follow_symlinks=False) and not looks:
                walk(path, (*parts, entry.name))
                continue
            if looks or any(s.lower() in entry.name.lower() for s in names):
                found.append((path, name, "_".join(parts) or None))

    walk(folder, ())
    return found


def _copy_key(stem: str) -> str:
    """A file stem without what copying adds (``x (1)``, ``x - Copy``, ``x copy 2``), case folded."""
    stem = stem.casefold().strip()
    while True:
        shorter = re.sub(r"(\s*\(\d+\)|\s*-\s*copy(\s*\(?\d+\)?)?|[\s_]copy(\s*\d+)?)$", "", stem).strip()
        if shorter == stem:
            return stem
        stem = shorter


def _duplicates(entries: list[tuple[Path, str, str | None]], names: list[str]) -> set[str]:
    """Names of submissions for which another one gives the same student and set, whatever their suffix."""
    groups: dict = {}
    for path, name, student in entries:
        key_path = Path(_copy_key(path.name[:-len(".ipynb")] if path.name.lower().endswith(".ipynb") else path.stem))
        set_name, who = match(Path(key_path.name + ".ipynb"), names)
        if set_name is None:
            continue
        if student and who == key_path.name:
            who = student.casefold()
        groups.setdefault((set_name, who), []).append(name)
    return {name for group in groups.values() if len(group) > 1 for name in group}


def grade_folder(folder: Path, out: Path = DEFAULT_OUT, *, timeout: float = 30.0, workers: int | None = None,
                 progress: bool = True, sets: dict[str, ExerciseSet] | None = None,
                 allow_weak_sandbox: bool = False, resume: bool = True,
                 notebook_time_limit: float = NOTEBOOK_TIME_LIMIT) -> list[Result]:
    """Grade every submission in ``folder``; write ``gradebook.csv`` and ``feedback/`` into ``out``.

    Each row is appended to the gradebook as soon as its submission is graded, with its feedback;
    with ``resume``, rows an earlier (interrupted) run wrote for the same unchanged files are kept
    and those files are not graded again. At the end the gradebook is rewritten, sorted.
    ``sets`` replaces the sets built from ``exercises/`` (for tests of the grader itself).
    Raises :class:`SandboxUnavailable` where full confinement cannot be had, unless ``allow_weak_sandbox``.
    """
    folder, out = Path(folder).resolve(), Path(out).resolve()
    start = time.perf_counter()
    names = list(sets) if sets is not None else set_names()
    entries = discover(folder, names, skip=(out,))
    duplicates = _duplicates(entries, names)
    needed = {match(path, names)[0] for path, _, _ in entries} - {None}
    grader = Grader(timeout=timeout, hide=[folder, out], names=names, only=needed, sets=sets,
                    allow_weak_sandbox=allow_weak_sandbox, notebook_time_limit=notebook_time_limit)
    header = gradebook_header(grader.sets)
    earlier = read_gradebook(out / "gradebook.csv", header) if resume else {}
    kept, todo = [], []
    for entry in entries:
        row = earlier.get(file_cell(entry[1]))
        if row is not None and row[-1] and row[-1] == _sha256(entry[0])[:16]:
            kept.append(row)
        else:
            todo.append(entry)
    feedback = feedback_names([(name, _student(path, student, names), match(path, names)[0] or "")
                               for path, name, student in entries])
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    appender = GradebookAppender(out / "gradebook.csv", header, kept)
    results: list[Result | None] = [None] * len(todo)
    try:
        with _Progress(len(todo), enabled=progress) as bar, ThreadPoolExecutor(workers_or_cpus(workers)) as pool:
            def one(i: int) -> None:
                path, name, student = todo[i]
                try:
                    result = grader.grade(path, name=name, student=student)
                except Exception as err:  # noqa: BLE001 - a grader bug must not stop the batch
                    result = Result(file=name, student=_student(path, student, names),
                                    exercise_set=match(path, names)[0] or "")
                    result.worsen("crashed", f"internal grader error: {type(err).__name__}: {str(err)[:200]}")
                if name in duplicates:
                    result.flags.append("duplicate")
                results[i] = result
                write_feedback([result], out / "feedback", grader.sets, names=feedback)
                appender.add(result)
                bar.advance(result)

            list(pool.map(one, range(len(todo))))
    finally:
        grader.close()
    done = [r for r in results if r is not None]
    write_gradebook(done, out / "gradebook.csv", grader.sets, kept=kept)
    if progress:
        _summary(done, time.perf_counter() - start, out, len(kept))
    return done


def workers_or_cpus(workers: int | None) -> int:
    return max(1, workers or os.cpu_count() or 1)


def _student(path: Path, student: str | None, names: list[str]) -> str:
    who = match(path, names)[1]
    return student if student and who == path.stem else who


def _sha256(path: Path) -> str:
    """The hash a row records for a regular file (empty for anything else: never resumed from)."""
    import hashlib
    import stat

    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return ""
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""


class _Progress:
    """A rich progress bar on a terminal, one plain line per submission otherwise."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.done, self.lock = total, enabled, 0, threading.Lock()
        self.rich = None
        if enabled and sys.stderr.isatty():
            from rich.progress import Progress  # rich is loaded only when there is a terminal to draw on

            self.rich = Progress(transient=False)

    def __enter__(self):
        if self.rich:
            self.rich.start()
            self.task = self.rich.add_task("grading", total=self.total)
        return self

    def __exit__(self, *exc):
        if self.rich:
            self.rich.stop()

    def advance(self, result: Result) -> None:
        with self.lock:
            self.done += 1
            if self.rich:
                self.rich.update(self.task, advance=1, description=result.file[:40])
            elif self.enabled:
                print(f"[{self.done:>3}/{self.total}] {result.file}: {result.status}, "
                      f"{result.total:g}/{result.possible:g}", flush=True)


def _summary(results: list[Result], seconds: float, out: Path, kept: int = 0) -> None:
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    isolation = sorted({r.isolation for r in results if r.isolation})
    if kept:
        print(f"\nKept {kept} row(s) of the interrupted run before (files unchanged).")
    print(f"\nGraded {len(results)} submission(s) in {seconds:.1f} s "
          f"({len(results) / seconds if seconds else 0:.2f}/s); sandbox: {', '.join(isolation) or 'n/a'}")
    print("Status: " + ", ".join(f"{s} {n}" for s, n in counts.items() if n))
    flagged = [r for r in results if r.flags]
    if flagged:
        print(f"Flagged for a look: {', '.join(r.file for r in flagged)}")
    print(f"Gradebook: {out / 'gradebook.csv'}\nFeedback:  {out / 'feedback'}/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursepack.grading",
        description="Grade every .ipynb in FOLDER against its exercise set (matched by file name, e.g. "
                    "alice_01-the-deployment.ipynb) into OUT/gradebook.csv and OUT/feedback/.")
    parser.add_argument("folder", type=Path, help="folder of submitted notebooks")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per code cell (default: 30)")
    parser.add_argument("--workers", type=int, default=None, help="submissions graded at once (default: CPU count)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _build/grades)")
    parser.add_argument("--allow-weak-sandbox", action="store_true",
                        help="grade even where the full sandbox (namespaces+seccomp) is unavailable, with the "
                             "audit hook alone (the gradebook's sandbox column says so on every row)")
    parser.add_argument("--restart", action="store_true",
                        help="grade everything again instead of keeping the rows of an interrupted run")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error("FOLDER must be a folder of .ipynb files")
    try:
        grade_folder(args.folder, args.out, timeout=args.timeout, workers=args.workers,
                     allow_weak_sandbox=args.allow_weak_sandbox, resume=not args.restart)
    except SandboxUnavailable as err:
        print(f"refusing to grade: {err}; to grade with the audit hook alone, pass --allow-weak-sandbox "
              "(python -m coursepack.grading FOLDER --allow-weak-sandbox)", file=sys.stderr)
        return 3
    return 0
