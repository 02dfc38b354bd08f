"""Learner edition of the exercise sets: ``python -m coursepack.grading.learner`` (``make learner``).

Every ``exercises/NN-*.ipynb`` is an otter-grader *assign* notebook: questions, solutions, public
and hidden tests in one file. This module takes what ``otter assign`` made of each of them
(:func:`coursepack.grading.exercises.assign`) and lays it out for three readers:

``_build/learner/``
    What students get: one learner notebook per set (no solutions, no hidden tests; the public tests
    travel in the notebook's metadata, so ``grader.check("q1")`` works wherever the notebook is
    opened), a copy of the ``coursepack`` helpers and ``data/`` so the folder runs on its own,
    ``requirements.txt``, a README, and ``handout.zip`` holding all of that.
``_build/autograder/NN-name/``
    What only the grader reads, kept out of the learner folder: the solution notebook, every test
    file (public and hidden) and otter's ``autograder.zip``.
``book/_generated/exercises/`` (via :func:`book_exercises`, called by ``coursepack.book.build``)
    The exercise pages of the HTML book: learner notebooks for the learner edition, solution
    notebooks with their tests and rubrics shown for the instructor edition. Exercise pages are
    not executed by the book (``"mystnb": {"execution_mode": "off"}``): a learner page would only
    show ``...`` placeholders failing their checks, and checks belong in JupyterLab, where the
    student's own answers are.
"""
from __future__ import annotations

import argparse
import copy
import io
import re
import time
import zipfile
from pathlib import Path

from coursepack.files import dump_notebook, read_notebook, write_if_changed
from coursepack.grading.exercises import AssignedSet, assign, exercise_sources

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
LEARNER = BUILD / "learner"
AUTOGRADER = BUILD / "autograder"

#: Parts of the ``coursepack`` package that are tooling for authors and instructors, not needed by learners.
TOOLING = {"grading", "files.py", "book/build.py", "book/codebook.py", "book/sourcespage.py", "book/guide.py", "book/syllabus.py"}
#: Parts of the tooling that learners do need: the public checks their notebooks call.
LEARNER_TOOLS = {"grading/__init__.py", "grading/checks.py"}
#: Fixed timestamp for zip entries, so an unchanged hand-out gives a byte-identical zip.
ZIP_DATE = (2024, 10, 24, 0, 0, 0)
NO_EXECUTION = {"execution_mode": "off"}


# --- notebooks for each audience -----------------------------------------------------------------


#: The first cell of a learner notebook. otter's own names the notebook's file (``otter.Notebook("NN-name.ipynb")``),
#: which breaks once a student saves it as ``jsmith_NN-name.ipynb``, as the hand-in asks. The checks travel in
#: the notebook's metadata, so otter only needs to know which file the kernel runs: JupyterLab tells the
#: kernel (IPython's ``__session__``, updated on renaming and read again on restarting); elsewhere the
#: hand-out's name. The cell stays what the batch grader skips (``import otter`` and ``grader = otter.Notebook(...)``).
INIT_CELL = """# Initialize Otter: the checks travel inside this notebook, so they work whatever you name the file
import otter
grader = otter.Notebook(globals().get("__session__") or "{name}.ipynb")"""

#: The last cell of a learner notebook: how to hand it in (no PDF: otter's PDF needs pandoc and LaTeX).
HAND_IN_CELL = """## Hand in

Save this notebook (File > Save Notebook), rename it to your id and its name, for example
`jsmith_{name}.ipynb`, then Kernel > Restart Kernel and Run All Cells to check that it runs from top to
bottom. Hand in that `.ipynb` file. If your teacher asks for a zip instead, run `grader.export(pdf=False)`
in a new cell: it writes one next to this notebook (a PDF would need pandoc and LaTeX, which the course
does not install)."""


def learner_notebook(assigned: AssignedSet, *, for_book: bool = False) -> dict:
    """The learner notebook: no solutions, no hidden tests, no outputs; the first cell finds the notebook
    under any name (:data:`INIT_CELL`) and the last says how to hand it in.

    ``for_book`` adds the myst-nb metadata that stops the book from executing the page.
    """
    nb = read_notebook(assigned.learner_notebook)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            if "".join(cell["source"]).startswith("# Initialize Otter"):
                cell["source"] = INIT_CELL.format(name=assigned.name)
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": HAND_IN_CELL.format(name=assigned.name)})
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
        wanted = rel.as_posix() in LEARNER_TOOLS or not TOOLING & {rel.parts[0], rel.as_posix()}
        if path.is_file() and "__pycache__" not in rel.parts and wanted and not rel.name.startswith("."):
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
