"""Learner edition of the exercise sets: ``python -m coursepack.learner`` (``make learner``).

Every ``exercises/NN-*.ipynb`` is an otter-grader *assign* notebook: questions, solutions, public
and hidden tests in one file. This module runs ``otter assign`` on each of them (cached by the
source notebook's hash, so unchanged sets cost nothing) and lays the results out for three readers:

``_build/learner/``
    What students get: one learner notebook per set (no solutions, no hidden tests; the public tests
    travel in the notebook's metadata, so ``grader.check("q1")`` works wherever the notebook is
    opened), a copy of the ``coursepack`` helpers and ``data/`` so the folder runs on its own,
    ``requirements.txt``, a README, and ``handout.zip`` holding all of that.
``_build/autograder/NN-name/``
    What only the grader reads, kept out of the learner folder: the solution notebook, every test
    file (public and hidden) and otter's ``autograder.zip``.
``book/_generated/exercises/`` (via :func:`book_exercises`, called by ``coursepack.build``)
    The exercise pages of the HTML book: learner notebooks for the learner edition, solution
    notebooks with their tests and rubrics shown for the instructor edition. Exercise pages are
    not executed by the book (``"mystnb": {"execution_mode": "off"}``): a learner page would only
    show ``...`` placeholders failing their checks, and checks belong in JupyterLab, where the
    student's own answers are.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
BUILD = ROOT / "_build"
LEARNER = BUILD / "learner"
AUTOGRADER = BUILD / "autograder"
CACHE = BUILD / ".exercise-cache"

#: Bump when the post-processing below changes, so cached ``otter assign`` output is rebuilt.
FORMAT_VERSION = "2"
#: ``coursepack`` modules that are tooling for authors and instructors, not needed by learners.
TOOLING_MODULES = {"build.py", "learner.py", "grading.py", "answers.py", "sandbox.py", "bench.py", "pages_bench.py",
                   "sourcespage.py", "codebook.py", "guide.py", "syllabus.py"}
#: Fixed timestamp for zip entries, so an unchanged hand-out gives a byte-identical zip.
ZIP_DATE = (2024, 10, 24, 0, 0, 0)
NO_EXECUTION = {"execution_mode": "off"}


@dataclass(frozen=True)
class AssignedSet:
    """The cached output of ``otter assign`` for one exercise set."""

    name: str  #: the set's name, the source notebook's stem, e.g. ``01-the-deployment``
    source: Path  #: the assign notebook in ``exercises/``
    folder: Path  #: the cache folder holding everything below

    @property
    def learner_notebook(self) -> Path:
        """Learner notebook: solutions replaced by ``...``, public tests in its metadata."""
        return self.folder / "student" / f"{self.name}.ipynb"

    @property
    def solution_notebook(self) -> Path:
        """Otter's autograder notebook: solutions in place, every test in its metadata."""
        return self.folder / "autograder" / f"{self.name}.ipynb"

    @property
    def tests_dir(self) -> Path:
        """One otter test file per auto-graded question, public and hidden test cases."""
        return self.folder / "tests"

    @property
    def autograder_zip(self) -> Path:
        """Otter's autograder zip (for ``otter run`` and Gradescope)."""
        return self.folder / "autograder.zip"


def exercise_sources() -> list[Path]:
    """Every exercise set's assign notebook, in teaching order."""
    return sorted(EXERCISES.glob("[0-9]*.ipynb"))


def source_hash(source: Path) -> str:
    """Hash of the source notebook, the otter version and :data:`FORMAT_VERSION`."""
    from importlib.metadata import version  # importing otter itself takes seconds

    digest = hashlib.sha256(source.read_bytes())
    digest.update(f"otter {version('otter-grader')} format {FORMAT_VERSION}".encode())
    return digest.hexdigest()[:16]


def assign(source: Path, *, run_tests: bool = False, cache: Path = CACHE) -> AssignedSet:
    """Run ``otter assign`` on ``source`` unless its output is already cached; return it.

    Why cached: ``otter assign`` takes seconds per set, and the book build calls this on every
    rebuild. The cache folder is keyed by :func:`source_hash` and written atomically (built in a
    temporary folder, then renamed), so concurrent builds never see half an output.

    ``run_tests=True`` makes otter run every test against the solutions first and refuse to build
    if one fails (slow; ``python -m coursepack.learner --check``). The test suite proves the same
    by grading the solution notebook with :mod:`coursepack.grading`.
    """
    source, cache = Path(source).resolve(), Path(cache)
    name = source.stem
    final = cache / f"{name}-{source_hash(source)}"
    if (final / "DONE").exists() and not run_tests:
        return AssignedSet(name, source, final)
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        _run_otter_assign(source, work, run_tests=run_tests)
        zips = sorted((work / "autograder").glob("*.zip"))
        if len(zips) != 1:
            msg = f"{source}: otter assign made {len(zips)} autograder zips, expected 1 (is `generate` configured?)."
            raise RuntimeError(msg)
        zips[0].rename(work / "autograder.zip")
        with zipfile.ZipFile(work / "autograder.zip") as archive:
            for member in archive.namelist():
                if member.startswith("tests/") and member.endswith(".py"):
                    (work / member).parent.mkdir(exist_ok=True)
                    (work / member).write_bytes(archive.read(member))
        (work / "DONE").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"), encoding="utf-8")
        if final.exists():  # built meanwhile by another process, or rebuilt with tests
            shutil.rmtree(final, ignore_errors=True)
        work.rename(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for stale in cache.glob(f"{name}-*"):
        if stale != final and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    return AssignedSet(name, source, final)


def _run_otter_assign(source: Path, result: Path, *, run_tests: bool) -> None:
    """``otter assign source result`` through otter's Python API, quietly unless it fails."""
    from otter.assign import main as otter_assign

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    otter_logger = logging.getLogger("otter")
    otter_logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(log):
            otter_assign(str(source), str(result), no_pdfs=True, no_run_tests=not run_tests)
    except BaseException:
        sys.stderr.write(log.getvalue())
        raise
    finally:
        otter_logger.removeHandler(handler)


# --- notebooks for each audience -----------------------------------------------------------------


def read_notebook(path: Path) -> dict:
    """A notebook as plain JSON (no nbformat validation needed for what we do)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def dump_notebook(nb: dict) -> str:
    """Serialise a notebook the way Jupyter does (stable, so unchanged content gives equal text)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def learner_notebook(assigned: AssignedSet, *, for_book: bool = False) -> dict:
    """The learner notebook: no solutions, no hidden tests, no outputs.

    ``for_book`` adds the myst-nb metadata that stops the book from executing the page.
    """
    nb = read_notebook(assigned.learner_notebook)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    if for_book:
        nb["metadata"]["mystnb"] = dict(NO_EXECUTION)
    return nb


def instructor_notebook(assigned: AssignedSet) -> dict:
    """The solution notebook with every question's tests shown after its check cell.

    Tests are shown as Markdown code blocks (not executed): the public format checks and the
    hidden correctness checks, as the batch grader runs them. Rubrics for written questions are in
    the solution cells, which otter keeps in this version.
    """
    nb = read_notebook(assigned.solution_notebook)
    nb["metadata"].pop("otter", None)  # the tests are shown in the page instead
    nb["metadata"]["mystnb"] = dict(NO_EXECUTION)
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            cell["source"] = _without_markers("".join(cell["source"]))
        cells.append(cell)
        question = _checked_question(cell)
        test_file = assigned.tests_dir / f"{question}.py" if question else None
        if test_file and test_file.exists():
            text = test_file.read_text(encoding="utf-8").strip()
            cells.append({
                "cell_type": "markdown", "metadata": {},
                "source": f"**Tests for {question}** (cases with `hidden=True` are not in the learner "
                          f"edition; public cases score 0 points and only check the format):\n\n"
                          f"```python\n{text}\n```",
            })
    nb["cells"] = cells
    return nb


def _without_markers(source: str) -> str:
    """Solution code as an instructor reads it: otter's ``# SOLUTION`` markers removed."""
    lines = []
    for line in source.split("\n"):
        if re.fullmatch(r"\s*# (BEGIN|END) (SOLUTION|PROMPT)( NO PROMPT)?\s*", line):
            continue
        lines.append(re.sub(r"\s*# SOLUTION( NO PROMPT)?\s*$", "", line))
    return "\n".join(lines)


def _checked_question(cell: dict) -> str | None:
    """``q1`` for a cell whose source is ``grader.check("q1")``, else None."""
    source = "".join(cell.get("source", "")).strip()
    if cell["cell_type"] == "code" and source.startswith("grader.check(") and source.endswith(")"):
        return source[len("grader.check("):-1].strip("'\"")
    return None


def _strip_ids(nb: dict) -> dict:
    """Drop random cell ids so that the same content always gives the same file."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        cell.pop("id", None)
    if nb.get("nbformat_minor", 0) >= 5:
        nb["nbformat_minor"] = 4
    return nb


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Write ``data`` to ``path`` only if it differs; return True if the file was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == raw:
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    return True


def book_exercises(edition: str, dest: Path) -> list[Path]:
    """Write one notebook per exercise set into ``dest`` for the book; return their paths.

    ``edition`` is ``"learner"`` (learner notebooks) or ``"instructor"`` (solutions, tests and
    rubrics). Files are rewritten only when their content changes, so cached book rebuilds stay
    fast; with nothing changed this costs a hash of each source notebook.
    """
    if edition not in {"learner", "instructor"}:
        msg = f"edition must be 'learner' or 'instructor', got {edition!r}"
        raise ValueError(msg)
    dest = Path(dest)
    written = []
    for source in exercise_sources():
        assigned = assign(source)
        nb = learner_notebook(assigned, for_book=True) if edition == "learner" else instructor_notebook(assigned)
        path = dest / f"{assigned.name}.ipynb"
        write_if_changed(path, dump_notebook(_strip_ids(nb)))
        written.append(path)
    for stale in dest.glob("*.ipynb"):
        if stale not in written:
            stale.unlink()
    return written


# --- the learner folder, the autograder folder and the hand-out ----------------------------------


def runtime_requirements() -> str:
    """requirements.txt for learners: the pinned runtime part of the repository's file."""
    lines = []
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip().lower().startswith("# tests"):
            break
        if line.strip() and not line.startswith(("-e", "#")):
            lines.append(line.strip())
    return "# Install with: pip install -r requirements.txt\n" + "\n".join(lines) + "\n"


HANDOUT_README = """\
Course pack exercises: learner hand-out
=======================================

1. Install the requirements once:   pip install -r requirements.txt
2. Start JupyterLab in this folder: jupyter lab
3. Open an exercise notebook (for example 01-the-deployment.ipynb), run the first cell, and answer
   each question in the variable it names. `grader.check("q1")` checks the form of your answer.
4. Submit the .ipynb file named YOURID_<exercise>.ipynb, e.g. jsmith_01-the-deployment.ipynb.

The folders coursepack/ and data/ are the helpers and evidence tables the notebooks load; keep
them next to the notebooks.
"""


def handout_files(assigned_sets: list[AssignedSet]) -> dict[str, bytes]:
    """Every file of the learner folder (relative path -> content), hand-out zip excluded."""
    files = {"README.txt": HANDOUT_README.encode(), "requirements.txt": runtime_requirements().encode()}
    for assigned in assigned_sets:
        nb = _strip_ids(learner_notebook(assigned))
        files[f"{assigned.name}.ipynb"] = dump_notebook(nb).encode("utf-8")
    package = ROOT / "coursepack"
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and "__pycache__" not in rel.parts and rel.name not in TOOLING_MODULES \
                and not rel.name.startswith(("bench", ".")):
            files[f"coursepack/{rel.as_posix()}"] = path.read_bytes()
    data_dir = ROOT / "data"
    for path in sorted(data_dir.iterdir()):
        if path.is_file() and path.suffix in {".csv", ".json", ".yml", ".yaml", ".md"}:
            files[f"data/{path.name}"] = path.read_bytes()
    return files


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A deterministic zip (sorted names, fixed dates) of ``files``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def build(*, run_tests: bool = False, learner_dir: Path = LEARNER, autograder_dir: Path = AUTOGRADER) -> list[AssignedSet]:
    """Build the learner folder, the autograder folder and ``handout.zip``; return the sets."""
    assigned_sets = [assign(source, run_tests=run_tests) for source in exercise_sources()]
    files = handout_files(assigned_sets)
    for rel, content in files.items():
        write_if_changed(learner_dir / rel, content)
    for path in sorted(learner_dir.rglob("*"), reverse=True):  # files from removed sets or modules
        rel = path.relative_to(learner_dir).as_posix()
        if path.is_file() and rel not in files and rel != "handout.zip":
            path.unlink()
    write_if_changed(learner_dir / "handout.zip", zip_bytes(files))
    for assigned in assigned_sets:
        target = autograder_dir / assigned.name
        write_if_changed(target / f"{assigned.name}-solution.ipynb", assigned.solution_notebook.read_bytes())
        write_if_changed(target / "autograder.zip", assigned.autograder_zip.read_bytes())
        for test in sorted(assigned.tests_dir.glob("*.py")):
            write_if_changed(target / "tests" / test.name, test.read_bytes())
    return assigned_sets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="let otter run every test against the solutions first (slow)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sets = build(run_tests=args.check)
    print(f"{len(sets)} exercise set(s) -> {LEARNER.relative_to(ROOT)}/ (handout.zip) and "
          f"{AUTOGRADER.relative_to(ROOT)}/ in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
