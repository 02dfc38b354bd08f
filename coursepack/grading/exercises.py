"""The exercise-set model: an otter assign notebook read as questions, points, answer variables and tests.

Every ``exercises/NN-*.ipynb`` is an otter-grader *assign* notebook: questions, solutions, public and
hidden tests in one file. :func:`assign` runs ``otter assign`` on one (cached by the source notebook's
hash, so unchanged sets cost nothing); :func:`load_set` reads what it made into an :class:`ExerciseSet`,
the questions with their points, answer variables and test files. :func:`question_blocks` reads the
source notebook itself, question by question. The learner edition, the grader, the syllabus and the
instructor guide all take exercise sets from here.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import io
import logging
import re
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import yaml

from coursepack.files import read_notebook

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
CACHE = ROOT / "_build" / ".exercise-cache"

#: Bump when the post-processing below changes, so cached ``otter assign`` output is rebuilt.
FORMAT_VERSION = "2"


# --- otter assign --------------------------------------------------------------------------------


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
    digest = hashlib.sha256(source.read_bytes())
    digest.update(f"otter {version('otter-grader')} format {FORMAT_VERSION}".encode())  # without importing otter
    return digest.hexdigest()[:16]


def assign(source: Path, *, run_tests: bool = False, cache: Path = CACHE) -> AssignedSet:
    """Run ``otter assign`` on ``source`` unless its output is already cached; return it.

    Why cached: ``otter assign`` takes seconds per set, and the book build calls this on every
    rebuild. The cache folder is keyed by :func:`source_hash` and written atomically (built in a
    temporary folder, then renamed), so concurrent builds never see half an output.

    ``run_tests=True`` makes otter run every test against the solutions first and refuse to build
    if one fails (slow; ``python -m coursepack.grading.learner --check``). The test suite proves the same
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
    from otter.assign import main as otter_assign  # importing otter takes seconds: only when a set is built

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


# --- the sets the grader reads -------------------------------------------------------------------


@dataclass
class Question:
    """One question of a set: its tests (auto-graded) or its points (written, graded by people)."""

    name: str
    points: float
    manual: bool = False
    test_file: Path | None = None
    variables: tuple[str, ...] = ()


@dataclass
class ExerciseSet:
    """What grading needs to know about one exercise set."""

    name: str
    questions: list[Question]
    locked_sources: list[str]  #: sources of the learner notebook's locked (non-editable) cells
    test_metadata: dict  #: the public tests stored in the learner notebook's metadata

    @property
    def auto(self) -> list[Question]:
        return [q for q in self.questions if not q.manual]

    @property
    def variables(self) -> list[str]:
        return sorted({v for q in self.auto for v in q.variables})


def set_names() -> list[str]:
    """Names of all exercise sets (the stems of ``exercises/NN-*.ipynb``)."""
    return [source.stem for source in exercise_sources()]


def load_sets(names=None) -> tuple[dict[str, ExerciseSet], dict[str, str]]:
    """The named exercise sets (default: all), from the cached ``otter assign`` output.

    Returns ``(sets, broken)``: a set that cannot be built is reported in ``broken`` (name ->
    reason), so that one broken set does not stop grading the others.
    """
    sets, broken = {}, {}
    for source in exercise_sources():
        if names is not None and source.stem not in names:
            continue
        try:
            sets[source.stem] = load_set(source)
        except Exception as err:  # noqa: BLE001 - reported in every row of that set
            broken[source.stem] = f"{type(err).__name__}: {err}"[:300]
    return sets, broken


def load_set(source: Path, **assign_options) -> ExerciseSet:
    """One set: its questions (with points and answer variables), locked cells and public tests."""
    assigned = assign(source, **assign_options)
    learner_nb = read_notebook(assigned.learner_notebook)
    locked = [cell_source(c) for c in learner_nb["cells"]
              if c.get("metadata", {}).get("editable") is False and cell_source(c).strip()]
    questions = []
    for config in question_configs(source):
        name, manual = str(config["name"]), bool(config.get("manual", False))
        test_file = assigned.tests_dir / f"{name}.py"
        if manual or not test_file.exists():
            questions.append(Question(name, float(config.get("points") or 0), manual=True))
            continue
        tests = parse_tests(test_file)
        questions.append(Question(name, float(tests.possible), test_file=test_file, variables=_test_variables(tests)))
    return ExerciseSet(assigned.name, questions, locked, learner_nb["metadata"].get("otter", {}).get("tests", {}))


def parse_tests(path: Path):
    """Parse an otter test file (exception-based or OK format) with otter's own reader."""
    from otter.nbmeta_config import NBMetadataConfig  # importing otter takes seconds: only when tests are read
    from otter.test_files import create_test_file

    return create_test_file(str(path), NBMetadataConfig())


def _test_variables(tests) -> tuple[str, ...]:
    """Names of the answer variables a question's tests read.

    Exception-based tests name them as function parameters; for OK-format (doctest) tests, every
    free name in the test code that is not a builtin or ``pd``/``np``.
    """
    names: set[str] = set()
    for case in tests.test_cases:
        if hasattr(case.body, "_get_func_params"):
            names.update(p for p in case.body._get_func_params() if p != "env")
        else:
            code = "\n".join(line[4:] for line in str(case.body).splitlines() if line.startswith((">>> ", "... ")))
            tree = ast.parse(code)
            assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            names.update(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                         and n.id not in assigned and not hasattr(builtins, n.id) and n.id not in {"pd", "np"})
    return tuple(sorted(names))


# --- the source notebook, question by question ---------------------------------------------------


def question_blocks(source: Path) -> list[tuple[dict, list[dict]]]:
    """Each question of an assign notebook: the YAML of its ``# BEGIN QUESTION`` raw cell and the
    cells that follow, up to its ``# END QUESTION`` (or the next question)."""
    blocks, inside = [], False
    for cell in read_notebook(source)["cells"]:
        text = cell_source(cell)
        if cell["cell_type"] == "raw" and re.match(r"#\s*BEGIN\s+QUESTION", text, flags=re.IGNORECASE):
            blocks.append((yaml.safe_load(text.split("\n", 1)[1]) if "\n" in text else {}, []))
            inside = True
        elif cell["cell_type"] == "raw" and re.match(r"#\s*END\s+QUESTION", text, flags=re.IGNORECASE):
            inside = False
        elif inside:
            blocks[-1][1].append(cell)
    return blocks


def question_configs(source: Path) -> list[dict]:
    """The YAML of every ``# BEGIN QUESTION`` raw cell of an assign notebook, in order."""
    return [config for config, _ in question_blocks(source)]


def cell_source(cell: dict) -> str:
    """A notebook cell's source as one string (notebooks store it as a string or a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
