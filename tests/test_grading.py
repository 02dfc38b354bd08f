"""The batch grader: hostile submissions get an honest row, never more points than their answers earn.

``tests/fixtures/submissions/`` holds one submission per hostile case (made by
``tests/fixtures/make_submissions.py``) plus a correct, a partial and a blank one;
``tests/fixtures/expected_gradebook.csv`` is what grading them must produce.
"""
from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coursepack.grading import answers, cli
from coursepack.grading import grader as grading

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUBMISSIONS = FIXTURES / "submissions"
QUESTIONS = ["q1", "q2", "q3", "q4", "q5"]
TIMEOUT = 5  # seconds per cell: long enough for any honest cell, short enough for the infinite loop


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def expected_rows() -> dict[str, dict]:
    with open(FIXTURES / "expected_gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the fixture folder once: (hashes before, hashes after, output folder, gradebook rows)."""
    out = tmp_path_factory.mktemp("grades")
    before = hashes(SUBMISSIONS)
    cli.grade_folder(SUBMISSIONS, out, timeout=TIMEOUT, workers=2, progress=False)
    after = hashes(SUBMISSIONS)
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}
    return before, after, out, rows


@pytest.mark.slow
def test_gradebook_matches_expected(graded):
    _, _, _, rows = graded
    expected = expected_rows()
    assert set(rows) == set(expected), "one row per submission, no more, no less"
    for name, want in expected.items():
        got = rows[name]
        for column in ["student", "status", *QUESTIONS, "total"]:
            assert got[column] == want[column], f"{name}: {column} is {got[column]!r}, expected {want[column]!r} ({got['message']})"
        for flag in want["flags"].split():
            assert flag in got["flags"].split(), f"{name}: flag {flag} missing ({got['flags']!r})"


@pytest.mark.slow
def test_submissions_are_never_modified(graded):
    before, after, _, _ = graded
    assert before == after


@pytest.mark.slow
def test_feedback_has_failures_and_written_answers_but_no_hidden_test_text(graded):
    _, _, out, rows = graded
    files = sorted((out / "feedback").glob("*.md"))
    assert len(files) == len(rows)
    correct = (out / "feedback" / "correct_01-the-deployment.md").read_text(encoding="utf-8")
    assert "Figures counted different things" in correct  # the written answer, for the human grader
    partial = (out / "feedback" / "partial_01-the-deployment.md").read_text(encoding="utf-8")
    assert "### q4: what did not pass" in partial and "not a plain Python int" in partial
    hidden_values = ["== 127", "== 8_000", "== 3", "data.load(\"troop_estimates\")"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not any(v in text for v in hidden_values), f"{path.name} shows hidden test code"


@pytest.mark.slow
def test_hostile_code_could_not_read_secrets_or_write_outside_its_sandbox(graded):
    _, _, out, rows = graded
    assert rows["snoop_01-the-deployment.ipynb"]["q3"] == "0"  # it would have 2 points had it read the tests
    assert "blocked-access" in rows["snoop_01-the-deployment.ipynb"]["flags"]
    assert not (FIXTURES / "expected_gradebook.csv").read_text(encoding="utf-8").rstrip().endswith("snoop")
    assert (out / "gradebook.csv").read_text(encoding="utf-8").count("1000") == 0


@pytest.mark.slow
def test_audit_hook_alone_still_blocks_snooping_and_saved_output_is_ignored(tmp_path):
    """Where Linux namespaces are unavailable, the audit hook must still keep the tests out of reach.

    Also: 50 MB of output saved in a submitted notebook is read and ignored.
    """
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("snoop_01-the-deployment.ipynb", "correct_01-the-deployment.ipynb"):
        (folder / name).write_bytes((SUBMISSIONS / name).read_bytes())
    nb = json.loads((SUBMISSIONS / "correct_01-the-deployment.ipynb").read_text(encoding="utf-8"))
    nb["cells"][1]["outputs"] = []  # a markdown cell: outputs are not even allowed there
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * 50_000_000}]
    (folder / "saved-output_01-the-deployment.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    grader = grading.Grader(timeout=TIMEOUT, hide=[folder], only={"01-the-deployment"})
    grader.confine = False
    try:
        snoop, correct, saved = (grader.grade(folder / f"{who}_01-the-deployment.ipynb")
                                 for who in ("snoop", "correct", "saved-output"))
    finally:
        grader.close()
    assert (correct.total, snoop.total, saved.total) == (10, 5, 10)
    assert snoop.isolation == "audit hook only" and "blocked-access" in snoop.flags
    assert saved.status == "ok"


def test_cli_help():
    done = subprocess.run([sys.executable, "-m", "coursepack.grading", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--timeout" in done.stdout and "--workers" in done.stdout


@pytest.mark.parametrize(("file_name", "expected"), [
    ("alice_01-the-deployment.ipynb", ("01-the-deployment", "alice")),
    ("01-the-deployment_alice.ipynb", ("01-the-deployment", "alice")),
    ("late-bob_01-the-deployment-2.ipynb", ("01-the-deployment", "late-bob_2")),
    ("01-the-deployment.ipynb", ("01-the-deployment", "01-the-deployment")),
    ("homework.ipynb", (None, "homework")),
])
def test_file_names_match_sets(file_name, expected):
    assert grading.match(Path(file_name), ["01-the-deployment", "02-russias-strategy"]) == expected


def roundtrip(value):
    return answers.decode(answers.encode(value))


def test_answers_travel_as_plain_values():
    frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "s": pd.Series(["a", None], dtype="str"),
                          "d": pd.to_datetime(["2024-06-19", "2024-10-24"]).as_unit("us"), "f": [0.5, np.nan]},
                         index=[3, 7])
    pd.testing.assert_frame_equal(roundtrip(frame), frame, check_dtype=True)
    series = frame.set_index("s")["n"]
    pd.testing.assert_series_equal(roundtrip(series), series)
    for value in (127, 2.5, float("nan"), "x", True, None, ..., [1, "a"], {"k": (1, 2)}, np.int64(8000),
                  pd.Timestamp("2024-10-24"), pd.Timedelta(days=127)):
        back = roundtrip(value)
        assert type(back) is type(value) and (back == value or back is value or back != back)


def test_lying_objects_are_refused():
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class LyingFrame(pd.DataFrame):
        def equals(self, other):
            return True

    for value in (Liar(3), LyingFrame({"a": [1]}), [Liar(1)], pd.Series([Liar(1)], dtype=object)):
        text = repr(roundtrip(value))
        assert "unsupported type" in text, text


@pytest.mark.parametrize(("source", "plumbing"), [
    ('# Initialize Otter\nimport otter\ngrader = otter.Notebook("01-the-deployment.ipynb")', True),
    ('grader.check("q1")', True),
    ('grader.check("q1")\nanswer = 3', False),
    ("grader.check = lambda q: True", False),
    ("x = 1", False),
])
def test_otter_plumbing_cells_are_recognised(source, plumbing):
    assert grading._is_otter_plumbing(source) is plumbing
