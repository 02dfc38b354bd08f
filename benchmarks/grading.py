"""The grader against serial ``otter run`` on the same synthetic submissions: ``python -m benchmarks.grading``."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coursepack.grading.cli import grade_folder
from coursepack.grading.exercises import assign, cell_source, exercise_sources


def make_synthetic(folder: Path, n: int) -> list[Path]:
    """``n`` submissions for set 01: full marks, partly right (with wrong types) and blank, in turn."""
    assigned = assign(exercise_sources()[0])
    solution = json.loads(assigned.solution_notebook.read_text(encoding="utf-8"))
    blank = json.loads(assigned.learner_notebook.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        kind = ("full", "partial", "blank")[i % 3]
        nb = json.loads(json.dumps(blank if kind == "blank" else solution))
        if kind == "partial":
            for cell in nb["cells"]:
                text = cell_source(cell)
                if text.startswith("article_4_choice"):
                    cell["source"] = "article_4_choice = 1"
                if "kursk_high_by_october = int(" in text:
                    cell["source"] = text.replace("int(in_kursk[\"high\"].max())", "in_kursk[\"high\"].max()")
        path = folder / f"student{i:03d}_{assigned.name}.ipynb"
        path.write_text(json.dumps(nb), encoding="utf-8")
        paths.append(path)
    return paths


def bench(n: int = 40, otter_sample: int = 5, workers: int | None = None) -> dict:
    """Time this grader on ``n`` synthetic submissions and serial ``otter run`` on a sample."""
    with tempfile.TemporaryDirectory(prefix="coursepack-bench-") as tmp:
        paths = make_synthetic(Path(tmp) / "submissions", n)
        start = time.perf_counter()
        results = grade_folder(Path(tmp) / "submissions", Path(tmp) / "grades", workers=workers, progress=False)
        ours = time.perf_counter() - start
        assert len(results) == n and all(r.status == "ok" for r in results), [r.problems for r in results]
        ag_zip = assign(exercise_sources()[0]).autograder_zip
        sample = paths[:otter_sample]
        (Path(tmp) / "otter").mkdir()
        start = time.perf_counter()
        for path in sample:
            subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(ag_zip), "-o", str(Path(tmp) / "otter"),
                            str(path)], check=True, capture_output=True)
        per_otter = (time.perf_counter() - start) / len(sample) if sample else float("nan")
    rate = n / ours
    figures = {"n": n, "workers": workers or os.cpu_count(), "seconds": ours, "per_s": rate,
               "otter_each_s": per_otter, "otter_sample": len(sample), "ratio": rate * per_otter}
    print(f"coursepack.grading: {n} submissions in {ours:.1f} s = {rate:.2f} submissions/s "
          f"({figures['workers']} workers, start-up included)")
    if sample:
        print(f"otter run, serial:  {per_otter:.1f} s each (measured on {len(sample)}, extrapolated to {n}: "
              f"{per_otter * n:.0f} s) = {1 / per_otter:.2f} submissions/s")
        print(f"speed-up: {figures['ratio']:.1f}x (target: at least 50x on 2 cores)")
    print(f"100 submissions: about {100 / rate:.0f} s at this rate (target: under 90 s; measure with --n 100)")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="synthetic submissions (default: 40)")
    parser.add_argument("--otter-sample", type=int, default=5, help="submissions timed with otter run (default: 5)")
    parser.add_argument("--workers", type=int, default=None, help="submissions graded at once (default: CPU count)")
    args = parser.parse_args(argv)
    bench(args.n, args.otter_sample, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
