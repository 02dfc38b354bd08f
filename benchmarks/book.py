"""Benchmarks (not timed tests): ``python -m benchmarks.book`` prints how long the book takes to build.

Figures: a cold build of the learner book into an empty folder, a cached rebuild with nothing changed,
each lesson notebook's execution (kernel start-up shown apart), and loading every data table.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def build_into(out: Path) -> None:
    command = [sys.executable, "-m", "coursepack.book.build", "--edition", "learner", "--out", str(out / "_build")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("build failed:\n" + result.stdout[-3000:] + result.stderr[-3000:])


def notebook_times(path: Path) -> tuple[float, float]:
    """Kernel start-up and execution time of one notebook, in seconds."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        started = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    return started - start, time.perf_counter() - started


def data_load_time() -> tuple[float, float]:
    """Import time of the data module and time to validate and load every table, in a fresh process."""
    code = (
        "import time; t=time.perf_counter(); from coursepack import data; i=time.perf_counter()-t; "
        "t=time.perf_counter(); data.load_all(); print(i, time.perf_counter()-t)"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    imported, loaded = map(float, output.split())
    return imported, loaded


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="coursepack-bench-") as folder:
        out = Path(folder)
        cold = timed(build_into, out)
        cached = timed(build_into, out)
    print(f"cold build (learner book, empty cache)   {cold:6.1f} s   target < 30 s")
    print(f"cached rebuild, nothing changed          {cached:6.1f} s   target < 5 s")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        startup, run = notebook_times(path)
        print(f"notebook {path.name:<36} {run:6.1f} s   (+ {startup:.1f} s kernel start-up)   target < 5 s")
    imported, loaded = data_load_time()
    print(f"load every data table                    {loaded:6.2f} s   (+ {imported:.2f} s import)   target < 1 s")


if __name__ == "__main__":
    main()
