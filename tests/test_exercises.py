"""Every exercise set works both ways, and no solution or hidden test ever reaches learners.

Both ways: graded by ``coursepack.grading``, each set's solution notebook earns full marks and its
blank learner notebook earns zero on every question (``grader.check`` never raises, so running the
notebooks is not enough: they are graded). A hidden test that passes on a blank answer is a defect,
and ``test_a_vacuous_hidden_test_is_caught`` shows that this check notices one.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from coursepack.grading import cli, exercises, learner

ROOT = Path(__file__).resolve().parent.parent
SOURCES = learner.exercise_sources()
NAMES = [s.stem for s in SOURCES]


# --- both ways -----------------------------------------------------------------------------------


def both_ways_problems(sets: list[tuple[learner.AssignedSet, exercises.ExerciseSet]], tmp: Path) -> list[str]:
    """Grade each set's solution and blank learner notebook; describe every way they fall short."""
    folder = tmp / "submissions"
    folder.mkdir(parents=True)
    for assigned, _ in sets:
        shutil.copyfile(assigned.solution_notebook, folder / f"solution_{assigned.name}.ipynb")
        shutil.copyfile(assigned.learner_notebook, folder / f"blank_{assigned.name}.ipynb")
    exercise_sets = {exercise.name: exercise for _, exercise in sets}
    results = cli.grade_folder(folder, tmp / "grades", timeout=120, progress=False, sets=exercise_sets)
    problems = []
    for r in results:
        exercise = exercise_sets[r.exercise_set]
        if r.status != "ok":
            problems.append(f"{r.exercise_set}: the {r.student} notebook was graded with status {r.status}: {r.problems}")
        for q in exercise.auto:
            got = r.scores.get(q.name)
            if r.student == "solution" and got != q.points:
                problems.append(f"{r.exercise_set}: the solution scores {got} of {q.points} on {q.name}: "
                                f"{r.failures.get(q.name)}")
            if r.student == "blank" and got != 0:
                problems.append(f"{r.exercise_set}: the blank learner notebook scores {got} on {q.name} "
                                "(a test passes on a blank answer)")
    return problems


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    sets = [(learner.assign(source), exercises.load_set(source)) for source in SOURCES]
    return both_ways_problems(sets, tmp_path_factory.mktemp("both-ways"))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_solution_full_marks_and_blank_zero(both_ways, name):
    problems = [p for p in both_ways if p.startswith(f"{name}:")]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_a_vacuous_hidden_test_is_caught(tmp_path):
    """Replace set 1's hidden check of q3 by ``assert True``: the both-ways check must fail on it."""
    source = tmp_path / "01-the-deployment.ipynb"
    nb = json.loads((ROOT / "exercises" / "01-the-deployment.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "def test_q3_value" in "".join(cell["source"]):
            cell["source"] = ('""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\n'
                              "def test_q3_value(report_gaps):\n    assert True\n")
    source.write_text(json.dumps(nb), encoding="utf-8")
    cache = tmp_path / "cache"
    problems = both_ways_problems([(learner.assign(source, cache=cache), exercises.load_set(source, cache=cache))],
                                  tmp_path / "graded")
    assert problems == ["01-the-deployment: the blank learner notebook scores 3.0 on q3 (a test passes on a blank answer)"]


# --- no leaks ------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return " ".join(text.split())


def secret_lines(source: Path) -> set[str]:
    """Lines of an assign notebook that learners must never see: solutions and hidden tests.

    Solution lines are those inside ``# BEGIN SOLUTION``/``# END SOLUTION`` blocks (raw cells or
    comments) or marked ``# SOLUTION``; hidden-test lines are the bodies of hidden test cells.
    Lines shorter than 12 characters, imports, ``x = data.load("table")``, test configuration
    and lines that also occur in the notebook's public parts (prompts, setup, public tests) are
    left out: they reveal nothing.
    """
    secret, public = set(), set()
    in_solution = in_tests = False
    for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw":
            marker = text.strip().upper()
            in_solution = marker.startswith("# BEGIN SOLUTION") or (in_solution and not marker.startswith("# END SOLUTION"))
            in_tests = marker.startswith("# BEGIN TESTS") or (in_tests and not marker.startswith("# END TESTS"))
            continue
        hidden = in_tests and re.search(r"hidden:\s*true", text, flags=re.IGNORECASE) is not None
        body = text.split("# END TEST CONFIG", 1)[-1] if in_tests else text
        inline = False
        for line in body.splitlines():
            stripped = line.strip()
            if stripped.endswith("# BEGIN SOLUTION"):
                inline = True
                continue
            if stripped.endswith("# END SOLUTION"):
                inline = False
                continue
            marked = stripped.endswith("# SOLUTION")
            stripped = stripped.removesuffix("# SOLUTION").strip()
            if hidden or inline or marked or (in_solution and cell["cell_type"] == "markdown"):
                secret.add(_squash(stripped))
            else:
                public.add(_squash(stripped))
    generic = re.compile(r"^(import |from \S+ import |\w+ = data\.load\(\"\w+\"\)$)")
    return {line for line in secret - public if len(line) >= 12 and not generic.match(line)}


def strings(value) -> list[str]:
    """Every string inside a JSON value (a notebook's sources and metadata alike)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def readable_text(name: str, data: bytes) -> str:
    """What a reader can see in a file: notebook strings, HTML without tags, or plain text."""
    text = data.decode("utf-8", errors="replace")
    if name.endswith(".ipynb"):
        try:
            return "\n".join(strings(json.loads(text)))
        except json.JSONDecodeError:
            return text
    if name.endswith((".html", ".htm")):
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def library_lines() -> set[str]:
    """Lines of the ``coursepack`` package: public by design (learners get the package), so a
    solution line that repeats one of them gives nothing away."""
    return {_squash(line) for path in (ROOT / "coursepack").rglob("*.py") for line in path.read_text(encoding="utf-8").splitlines()}


def leaks(files: dict[str, bytes]) -> list[str]:
    """``file: line`` for every secret line of any exercise set that is a whole line of ``files``."""
    public = library_lines()
    secrets = {line: source.stem for source in SOURCES for line in secret_lines(source) if line not in public}
    found = []
    for name, data in files.items():
        lines = {_squash(line) for line in readable_text(name, data).splitlines()}
        found += [f"{name}: {line!r} (from {stem})" for line, stem in secrets.items() if line in lines]
    return found


@pytest.fixture(scope="module")
def built():
    """``make learner``: the learner folder, the autograder folder and handout.zip."""
    return learner.build()


def test_secret_lines_are_found():
    """The leak test is only as good as this list: it must hold set 1's solutions and hidden tests."""
    lines = secret_lines(ROOT / "exercises" / "01-the-deployment.ipynb")
    assert 'article_4_choice = 2' in lines
    assert 'assert report_gaps == expected, "The numbers of days are not right."' in lines
    assert any(line.startswith("**Rubric") for line in lines)
    assert not any("checks.answer(" in line for line in lines)  # public tests are not secret


def test_no_secret_in_learner_folder_or_handout(built):
    files = {str(p.relative_to(learner.LEARNER)): p.read_bytes() for p in learner.LEARNER.rglob("*")
             if p.is_file() and p.suffix != ".zip"}
    with zipfile.ZipFile(learner.LEARNER / "handout.zip") as archive:
        files |= {f"handout.zip:{n}": archive.read(n) for n in archive.namelist()}
    assert {f"{name}.ipynb" for name in NAMES} <= set(files)
    assert not leaks(files), "\n".join(leaks(files))


def test_no_secret_in_learner_book_pages(tmp_path):
    dest = tmp_path / "exercises"
    written = learner.book_exercises("learner", dest)
    assert not leaks({p.name: p.read_bytes() for p in written})


def test_no_secret_in_learner_html_book():
    html_dir = ROOT / "_build" / "html"
    if not html_dir.is_dir():
        pytest.skip("no learner HTML book at _build/html (run `make book` first to include it in the leak test)")
    files = {str(p.relative_to(html_dir)): p.read_bytes() for p in html_dir.rglob("*")
             if p.is_file() and p.suffix in {".html", ".ipynb", ".txt", ".md", ".json", ".js"}}
    assert not leaks(files), "\n".join(leaks(files)[:20])


def test_autograder_material_is_kept_out_of_the_learner_folder(built):
    for assigned in built:
        target = learner.AUTOGRADER / assigned.name
        assert (target / "autograder.zip").is_file() and (target / f"{assigned.name}-solution.ipynb").is_file()
        assert any("hidden=True" in p.read_text(encoding="utf-8") for p in (target / "tests").glob("*.py"))
    assert not list(learner.LEARNER.rglob("tests")) and not list(learner.LEARNER.rglob("*solution*"))


# --- the book's exercise pages -------------------------------------------------------------------


def test_book_exercises_are_cached_and_fast(tmp_path):
    learner.book_exercises("learner", tmp_path)  # warm: otter assign output cached by source hash
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    start = time.perf_counter()
    learner.book_exercises("learner", tmp_path)
    learner.book_exercises("instructor", tmp_path / "instructor")
    learner.book_exercises("instructor", tmp_path / "instructor")
    assert time.perf_counter() - start < 2.0
    assert stamps == {p: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.is_file()} | {
        p: stamps[p] for p in stamps if p.is_dir()}


def test_book_pages_are_not_executed_and_instructor_pages_show_tests(tmp_path):
    page = json.loads(learner.book_exercises("learner", tmp_path / "l")[0].read_text(encoding="utf-8"))
    assert page["metadata"]["mystnb"] == {"execution_mode": "off"}
    assert all(not c.get("outputs") for c in page["cells"] if c["cell_type"] == "code")
    text = learner.book_exercises("instructor", tmp_path / "i")[0].read_text(encoding="utf-8")
    assert "hidden=True" in text and "# SOLUTION" not in text and "Rubric" in text
    assert 'article_4_choice = 2' in text


# --- the hand-out runs on its own ----------------------------------------------------------------


@pytest.mark.slow
def test_handout_notebooks_run_and_checks_work(built, tmp_path):
    """Unzip handout.zip anywhere; each learner notebook runs with its public checks."""
    import nbformat
    from nbclient import NotebookClient

    with zipfile.ZipFile(learner.LEARNER / "handout.zip") as archive:
        archive.extractall(tmp_path)
    for name in NAMES:
        nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(("grader.check", "# Initialize Otter"))]
        assert checks, f"{name}: no otter cells"
        for cell in checks:
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{name}: {cell.source!r} failed: {errors[0].ename}: {errors[0].evalue}"
        if name == "01-the-deployment":
            shown = json.dumps([c.outputs for c in checks])
            assert "You haven't replaced the `...`" in shown
            assert "Error at line" not in shown and "Test case failed" not in shown
            assert "Your progress: 0 of" in json.dumps([c.outputs for c in nb.cells if c.source.startswith("# Just run this cell: one line")])


# --- public checks: right, blank and each likely mistake get the intended message ---------------
#
# Each set's assign notebook is run in this process (setup and solution cells, no sandbox): fast, and
# enough to call its public and hidden tests on the solution's answers, on ``...`` and on the wrong but
# well-formed answers of tests/fixtures/mistakes/<set>.yml.

MISTAKES = ROOT / "tests" / "fixtures" / "mistakes"
#: Questions that are pure pandas mechanics (no understanding of the politics needed): at most 40% of a
#: set's auto-graded points.
MECHANICS = {"01-the-deployment": {"q1"}, "02-russias-strategy": {"q1", "q6", "q7"},
             "03-korean-peninsula": {"q6"}, "04-chinas-view": {"q1", "q4"}, "05-what-next": {"q2", "q3", "q6"}}


def question_cells(source: Path) -> dict[str, dict]:
    """For each auto-graded question: its points, its solution code cells and its public and hidden test cells."""
    questions = {}
    for config, cells in exercises.question_blocks(source):
        if config.get("manual"):
            continue
        entry = questions.setdefault(str(config["name"]), {"points": float(config.get("points") or 0),
                                                          "solution": [], "public": [], "hidden": []})
        for cell in cells:
            text = exercises.cell_source(cell)
            if cell["cell_type"] != "code":
                continue
            if "# BEGIN TEST CONFIG" in text:
                entry["hidden" if re.search(r"hidden:\s*true", text) else "public"].append(text)
            else:
                entry["solution"].append(text)
    return questions


def answer_variable(test_source: str) -> str:
    """The answer variable a test cell reads (its test function's only parameter)."""
    return re.search(r"def test_\w+\((\w+)\)", test_source).group(1)


def run_solution(source: Path) -> dict:
    """Run a set's setup and solution cells in this process; return the namespace they made."""
    from coursepack.grading import grader as grading

    namespace: dict = {"grader": None}
    in_tests = False
    for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]:
        text = exercises.cell_source(cell)
        if cell["cell_type"] == "raw":
            marker = text.strip().upper()
            in_tests = marker.startswith("# BEGIN TESTS") or (in_tests and not marker.startswith("# END TESTS"))
            continue
        if cell["cell_type"] == "code" and not in_tests and not grading._is_otter_plumbing(text):
            exec(compile(text, f"{source.name}", "exec"), namespace)  # noqa: S102 - our own notebook
    return namespace


def check_message(test_source: str, value) -> str | None:
    """Run one test cell on ``value``: None if it passes, else the message the student would see."""
    from coursepack.grading import checks

    try:
        exec(compile(test_source, "<test>", "exec"), {answer_variable(test_source): value})  # noqa: S102
    except AssertionError as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 - shown as a check that could not run
        return checks.student_message(f"{type(err).__name__}: {err}")
    return None


def fixtures(name: str) -> dict:
    import yaml

    path = MISTAKES / f"{name}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


def public_problems(source: Path) -> list[str]:
    """Every way a set's public checks fall short of the pattern (empty when they are right)."""
    from coursepack.grading import checks

    namespace = run_solution(source)
    questions, mistakes, problems = question_cells(source), fixtures(source.stem), []
    for q, entry in questions.items():
        if not entry["public"]:
            problems.append(f"{q}: no public check")
            continue
        for test in entry["public"]:
            var = answer_variable(test)
            value = namespace.get(var)
            got = check_message(test, value)
            if got is not None:
                problems.append(f"{q}: the solution fails its public check: {got} "
                                f"(the solution's key is {checks.key(q, value)!r})")
            blank = check_message(test, ...)
            if not blank or "haven't replaced" not in blank:
                problems.append(f"{q}: a blank answer gets {blank!r}, not the 'haven't replaced' message")
        if not mistakes.get(q):
            problems.append(f"{q}: no likely-mistake fixtures in tests/fixtures/mistakes/{source.stem}.yml")
        for fixture in mistakes.get(q, []):
            scope = dict(namespace)
            exec(fixture["code"], scope)  # noqa: S102 - our own fixture
            var = answer_variable(entry["public"][0])
            value = scope[var]
            messages = [check_message(t, value) for t in entry["public"]]
            shown = " ".join(m for m in messages if m)
            if fixture["says"] not in shown:
                problems.append(f"{q}: the mistake {fixture['why']!r} gets {shown or 'a pass'!r}, not a message "
                                f"with {fixture['says']!r} (its key is {checks.key(q, value)!r})")
            if all(check_message(t, value) is None for t in entry["hidden"]):
                problems.append(f"{q}: the mistake {fixture['why']!r} passes the hidden test: is it a right answer?")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_public_checks_say_right_blank_and_each_mistake(name):
    source = ROOT / "exercises" / f"{name}.ipynb"
    if not any("checks.Feedback(grader)" in exercises.cell_source(c)
               for c in json.loads(source.read_text(encoding="utf-8"))["cells"]):
        pytest.skip(f"{name} does not use the public-check pattern yet")
    problems = public_problems(source)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", [n for n in NAMES if n in MECHANICS])
def test_at_most_40_percent_of_auto_points_are_mechanics(name):
    questions = question_cells(ROOT / "exercises" / f"{name}.ipynb")
    total = sum(q["points"] for q in questions.values())
    mechanical = sum(questions[q]["points"] for q in MECHANICS[name] if q in questions)
    assert mechanical <= 0.4 * total, f"{name}: {mechanical} of {total} auto-graded points are mechanics"


def test_a_typo_in_the_answer_cell_is_reported_as_that_error():
    """A cell that stops with an error leaves the old ``...``: the check quotes the error instead."""
    from types import SimpleNamespace

    from coursepack.grading import checks

    def ran(source, error=None):
        checks._record(SimpleNamespace(error_before_exec=None, error_in_exec=error, info=SimpleNamespace(raw_cell=source)))

    ran("report_gaps = ...")
    ran('report_gaps = [(event_date["duma-ratifies"] - first_public).days]', NameError("name 'event_date' is not defined"))
    with pytest.raises(checks.Mistake) as failed:
        checks.not_yet("report_gaps", ...)
    assert "stopped with an error (NameError: name 'event_date' is not defined)" in str(failed.value)
    assert "haven't replaced" not in str(failed.value)
    ran("report_gaps = ...")
    with pytest.raises(checks.Mistake, match="haven't replaced"):
        checks.not_yet("report_gaps", ...)


def test_the_student_sees_our_message_not_otters_report():
    from coursepack.grading import checks

    report = ("❌ Test case failed\nError at line 4 in test q3:\n      checks.answer(\n"
              "Mistake: A number is negative: subtract the earlier date from the later one.")
    assert checks.student_message(report) == "A number is negative: subtract the earlier date from the later one."
    crashed = "❌ Test case failed\nError at line 2 in test q3:\n  x\nTypeError: unhashable type: 'list'"
    assert checks.student_message(crashed).startswith("This answer could not be checked (TypeError")


def grown_data(tmp: Path) -> Path:
    """A copy of data/ with one plausible new row in each table the sets' keys come from."""
    import csv

    folder = tmp / "data"
    shutil.copytree(ROOT / "data", folder)
    rows = {
        "troop_estimates.csv": {"id": "nis-2024-10-30-test", "date": "2024-10-30", "claimant": "National Intelligence Service (South Korea), via lawmakers",
                                "claimant_country": "South Korea", "low": "3500", "high": "3500", "location": "in Russia",
                                "note": "A plausible row added by the data-growth test.", "source_id": None},
        "russian_casualties.csv": {"id": "ukmod-2024-12-daily-test", "date_reported": "2025-01-05", "period_start": "2024-12-01",
                                   "period_end": "2024-12-31", "measure": "daily average", "counts": "killed and wounded",
                                   "low": "1585", "high": "1585", "claimant": "UK Ministry of Defence", "claimant_country": "United Kingdom",
                                   "basis": "UK defence intelligence figures", "note": "A plausible row added by the data-growth test.",
                                   "source_id": None},
    }
    for name, row in rows.items():
        path = folder / name
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            fields, first = reader.fieldnames, next(reader)
        row["source_id"] = row["source_id"] or first["source_id"]
        with path.open("a", encoding="utf-8", newline="") as handle:
            csv.DictWriter(handle, fieldnames=fields).writerow({f: row.get(f, "") for f in fields})
    return folder


@pytest.mark.parametrize("name", ["01-the-deployment", "02-russias-strategy"])
def test_data_growth_keeps_both_ways(name, tmp_path, monkeypatch):
    """With a new South Korean estimate and a new UK monthly rate in the data, the hidden tests (keys computed from the data)
    still pass on the solution and fail on a blank answer, and the grown row changes an answer."""
    import functools

    from coursepack.lessons import data

    source = ROOT / "exercises" / f"{name}.ipynb"
    before = run_solution(source)
    monkeypatch.setattr(data, "load", functools.partial(data.load, data_dir=grown_data(tmp_path)))
    after = run_solution(source)
    questions = question_cells(source)
    changed = [q for q, entry in questions.items()
               if exercises_canonical(before.get(answer_variable(entry["hidden"][0]))) != exercises_canonical(after.get(answer_variable(entry["hidden"][0])))]
    assert changed, "the grown row changes no answer: the test proves nothing"
    for q, entry in questions.items():
        for test in entry["hidden"]:
            value = after.get(answer_variable(test))
            assert check_message(test, value) is None, f"{q}: the solution fails its hidden test on grown data"
            assert check_message(test, ...) is not None, f"{q}: a blank answer passes its hidden test on grown data"


def exercises_canonical(value) -> str:
    from coursepack.grading import checks

    return checks.canonical(value)


@pytest.mark.parametrize("source", SOURCES, ids=NAMES)
def test_header_states_the_points_the_questions_carry(source):
    """The set's header gives the points of its questions: automatic and teacher-marked, summed from the set."""
    cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
    automatic = manual = 0
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
            points = int(re.search(r"points:\s*(\d+)", text).group(1))
            if re.search(r"manual:\s*true", text):
                manual += points
            else:
                automatic += points
    header = "".join(cells[1]["source"])
    stated = re.search(r"\*\*Points:\*\* (\d+) checked automatically, (\d+) marked by your teacher", header)
    assert stated, "the header does not state its points"
    assert (int(stated.group(1)), int(stated.group(2))) == (automatic, manual), (
        f"the header says {stated.group(1)} automatic and {stated.group(2)} teacher-marked; the questions carry "
        f"{automatic} and {manual}")
