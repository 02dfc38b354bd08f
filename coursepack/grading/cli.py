"""The command line: a folder of submissions graded a few at a time, with progress shown, into a gradebook.

``python -m coursepack.grading FOLDER`` (``make grade SUBMISSIONS=FOLDER``) grades every ``.ipynb`` in
FOLDER against its exercise set and writes ``_build/grades/gradebook.csv`` (one row per submission) and
``_build/grades/feedback/<student>_<set>.md`` (failed checks and why, plus the written answers for the
human grader).
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from coursepack.grading.exercises import ExerciseSet, set_names
from coursepack.grading.grader import STATUSES, Grader, Result, match
from coursepack.grading.reports import write_feedback, write_gradebook

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "_build" / "grades"


def grade_folder(folder: Path, out: Path = DEFAULT_OUT, *, timeout: float = 30.0, workers: int | None = None,
                 progress: bool = True, sets: dict[str, ExerciseSet] | None = None) -> list[Result]:
    """Grade every ``.ipynb`` in ``folder``; write ``gradebook.csv`` and ``feedback/`` into ``out``.

    ``sets`` replaces the sets built from ``exercises/`` (for tests of the grader itself).
    """
    folder, out = Path(folder).resolve(), Path(out).resolve()
    files = sorted(p for p in folder.iterdir() if p.suffix == ".ipynb" and p.is_file())
    workers = max(1, workers or os.cpu_count() or 1)
    start = time.perf_counter()
    names = list(sets) if sets is not None else set_names()
    needed = {match(p, names)[0] for p in files} - {None}
    grader = Grader(timeout=timeout, hide=[folder, out], names=names, only=needed, sets=sets)
    results: list[Result | None] = [None] * len(files)
    try:
        with _Progress(len(files), enabled=progress) as bar, ThreadPoolExecutor(workers) as pool:
            def one(i: int) -> None:
                try:
                    results[i] = grader.grade(files[i])
                except Exception as err:  # noqa: BLE001 - a grader bug must not stop the batch
                    results[i] = Result(file=files[i].name, student=files[i].stem)
                    results[i].worsen("crashed", f"internal grader error: {type(err).__name__}: {err}")
                bar.advance(results[i])

            list(pool.map(one, range(len(files))))
    finally:
        grader.close()
    done = [r for r in results if r is not None]
    _mark_duplicates(done)
    write_gradebook(done, out / "gradebook.csv", grader.sets)
    write_feedback(done, out / "feedback", grader.sets)
    if progress:
        _summary(done, time.perf_counter() - start, out)
    return done


def _mark_duplicates(results: list[Result]) -> None:
    seen: dict = {}
    for r in results:
        seen.setdefault((r.student, r.exercise_set), []).append(r)
    for group in seen.values():
        if len(group) > 1 and group[0].exercise_set:
            for r in group:
                r.flags.append("duplicate")


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


def _summary(results: list[Result], seconds: float, out: Path) -> None:
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    isolation = sorted({r.isolation for r in results if r.isolation})
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
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error("FOLDER must be a folder of .ipynb files")
    grade_folder(args.folder, args.out, timeout=args.timeout, workers=args.workers)
    return 0
