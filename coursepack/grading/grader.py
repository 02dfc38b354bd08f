"""The grader: each submission runs in a sandbox process of its own, and its answers are checked here.

Nothing in a submission is trusted. For each one:

1. The file is read (never modified) and matched to a set by its **file name**, which must contain
   the set's name: ``alice_01-the-deployment.ipynb`` or ``01-the-deployment_alice.ipynb`` give
   student ``alice``. Notebook metadata is not used for matching: the student's editor wrote it.
2. A copy goes into a fresh scratch folder, and the notebook's code cells (minus otter's own
   ``grader = otter.Notebook(...)`` / ``grader.check(...)`` cells, which grading never needs) run in
   a process forked from a pre-warmed fork server: pandas, altair, IPython, otter and the validated
   data tables are loaded once per grading run, and each process serves one submission only.
   Before any student code runs, that process confines itself (:func:`sandbox._confine`): in new user,
   mount, PID and network namespaces it pivots into a root holding only read-only system and
   Python folders, ``coursepack/``, ``data/`` and an in-memory working folder with a disk quota
   (wherever the repository lies, ``/tmp`` included), so the repository, the hidden tests, other
   submissions and the gradebook do not exist for it; the notebook then runs as an unprivileged
   user without capabilities (on the host, a uid of its own, :data:`sandbox.SANDBOX_HOST_UID` when the
   grader is root, never the grader's), as PID 1 of its own PID namespace (ending it ends all it started),
   with a short allowlisted environment, and seccomp refuses signals to other processes, setting
   limits, priorities or affinity, ptrace, other processes' memory, pidfds, sessions, running
   programs, mounts and new namespaces. An audit hook (:func:`sandbox._install_guard`) also refuses
   file access outside the allowed folders, new processes, sockets and more. Confinement is all or
   nothing: where it cannot be had, grading refuses to start unless weak sandboxes are allowed
   explicitly (``--allow-weak-sandbox``: the audit hook alone, defence in depth, not a boundary);
   the gradebook's ``sandbox`` column gives the mode of every row. Each cell has a time limit
   (``--timeout``, default 30 s: interrupt, then kill), each notebook a total time budget and a cap
   on code cells; printed output is counted and discarded; memory, file sizes and threads are capped.
   The process that confines itself forks the notebook's process and becomes its **monitor**: it
   runs no student code and alone holds the connection to this process. It counts the notebook's
   printed output (fds 1 and 2 are a pipe it drains), receives each action the audit hook refuses
   the moment it is refused, records the exit status and time, checks every report (size, kind,
   order, no more than there are cells) and flags tampering with the report channels
   (``report-tampering``), so that a notebook cannot erase what it printed or tried.
3. After every cell the notebook's process reports each graded answer variable as plain JSON data (ints,
   floats, strings, lists, dicts, NumPy scalars, pandas Timestamps, Series and DataFrames as
   values + dtypes); anything whose type is not *exactly* one of those is reported as unsupported.
   So answers given before a hang or a crash keep their points, and an object with a lying
   ``__eq__`` or ``__repr__`` never leaves the sandbox: only its plain value could.
4. This process, which never runs student code, rebuilds the answers by value and runs the set's
   public and hidden tests (otter's own test files, from ``_build/.exercise-cache``) on them.

Locked cells that were deleted or edited, edited test metadata, blocked actions, tampering with the
sandbox's reports and unsupported answer types are reported in the ``flags`` column; they cannot change a score, because neither the
notebook's check cells nor its metadata are used.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
from dataclasses import dataclass, field
from multiprocessing import forkserver
from pathlib import Path

import numpy as np
import pandas as pd

from coursepack.grading import sandbox
from coursepack.grading.answers import Unsupported, decode
from coursepack.grading.exercises import ExerciseSet, cell_source, load_sets, parse_tests, set_names

ROOT = Path(__file__).resolve().parents[2]
MAX_FILE_BYTES = 100 * 2**20  #: larger submissions are not read at all
MAX_MESSAGE_BYTES = sandbox.MAX_REPORT_BYTES + 2**16  #: largest message accepted from a sandbox
OUTPUT_LIMIT = 10 * 2**20  #: printed bytes beyond this are reported (all output is discarded)
INTERRUPT_GRACE = 2.0  #: seconds a cell gets to stop after an interrupt before the process is killed
STARTUP_TIMEOUT = 120.0  #: seconds for the fork server to start (imports and data validation)
NOTEBOOK_TIME_LIMIT = 300.0  #: seconds all of a notebook's cells may take together
MAX_CELLS = 400  #: code cells run per notebook; the rest are not run, and the row says so
PLACEHOLDER = "_Type your answer here, replacing this text._"
#: Status of a row, worst first. The worst problem met decides the status; ``message`` says more.
STATUSES = ("invalid", "unmatched", "crashed", "timeout", "output-limit", "errors", "ok")


# --- matching files to sets ----------------------------------------------------------------------


def match(path: Path, set_names) -> tuple[str | None, str]:
    """``(set name, student id)`` from a file name; set name None if no set is named.

    The longest set name contained in the file's stem wins; the student id is what is left on
    either side, stripped of ``_``, ``-``, spaces and dots (``alice_01-the-deployment`` and
    ``01-the-deployment_alice`` both give ``alice``). With nothing left, the id is the stem. Set names
    and the ``.ipynb`` suffix are matched in any case.
    """
    stem = path.name[:-len(".ipynb")] if path.name.lower().endswith(".ipynb") else path.stem
    for name in sorted(set_names, key=len, reverse=True):
        at = stem.casefold().find(name.casefold()) if len(stem.casefold()) == len(stem) else stem.find(name)
        if at >= 0:
            parts = [stem[:at].strip("_- ."), stem[at + len(name):].strip("_- .")]
            return name, "_".join(p for p in parts if p) or stem
    return None, stem


# --- running one submission ----------------------------------------------------------------------


@dataclass
class Result:
    """One gradebook row and the feedback behind it."""

    file: str
    student: str
    exercise_set: str = ""
    sha256: str = ""
    status: str = "ok"
    scores: dict = field(default_factory=dict)  #: question -> points (None for written questions)
    possible: float = 0.0
    manual_possible: float = 0.0
    flags: list = field(default_factory=list)
    problems: list = field(default_factory=list)  #: plain-words notes, worst first
    failures: dict = field(default_factory=dict)  #: question -> list of failure messages
    written: dict = field(default_factory=dict)  #: written question -> the student's answer
    isolation: str = ""  #: the sandbox the code ran in ("not run" when no code ran)
    answers: dict = field(default_factory=dict, repr=False)  #: the last answers reported, encoded

    @property
    def total(self) -> float:
        return round(sum(v for v in self.scores.values() if v is not None), 4)

    def worsen(self, status: str, problem: str) -> None:
        """Record a problem; keep the worst status."""
        if STATUSES.index(status) < STATUSES.index(self.status):
            self.status = status
        self.problems.append(problem)


class SandboxUnavailable(RuntimeError):
    """Full confinement (namespaces and seccomp) cannot be had here, and weak sandboxes were not allowed."""


class Grader:
    """Grades submissions: one fork server, sandboxes forked from it, checks run here.

    Confinement is all or nothing: unless ``allow_weak_sandbox``, a Grader refuses to start
    (:class:`SandboxUnavailable`) where a sandbox cannot reach :data:`sandbox.FULL_ISOLATION`.
    """

    def __init__(self, *, timeout: float = 30.0, hide: list[Path] = (), names=None, only=None,
                 sets: dict[str, ExerciseSet] | None = None, allow_weak_sandbox: bool = False,
                 notebook_time_limit: float = NOTEBOOK_TIME_LIMIT, max_cells: int = MAX_CELLS):
        self.timeout = timeout
        self.notebook_time_limit, self.max_cells = notebook_time_limit, max_cells
        if sets is not None:  # given directly (tests)
            self.names, self.sets, self.broken = list(sets), sets, {}
        else:
            self.names = list(names) if names is not None else set_names()
            self.sets, self.broken = load_sets(self.names if only is None else only)
        self.scratch_root = Path(tempfile.mkdtemp(prefix="coursepack-grading-"))
        os.chmod(self.scratch_root, 0o700)
        self.hide = [str(Path(p).resolve()) for p in hide] + [str(p) for p in sorted(ROOT.iterdir())
                                                               if p.is_dir() and p.name not in {"coursepack", "data", ".venv"}]
        self.readable = [sys.prefix, sys.base_prefix, sys.exec_prefix, str(ROOT / "coursepack"), str(ROOT / "data"),
                         "/usr/share/zoneinfo", "/etc/localtime", "/usr/lib", "/lib", "/usr/local/lib"]
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
            os.environ.setdefault(name, "1")  # single-threaded libraries fork safely
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["coursepack.grading.sandbox"])
        os.environ["COURSEPACK_GRADER_PREWARM"] = "1"
        try:
            with _without_main():
                forkserver.ensure_running()
        finally:
            os.environ.pop("COURSEPACK_GRADER_PREWARM", None)

        self.confine = True  # until the probe says otherwise
        isolation, reason = self._probe()
        self.confine = isolation == sandbox.FULL_ISOLATION
        self.weak_reason = None if self.confine else reason
        if not self.confine and not allow_weak_sandbox:
            self.close()
            raise SandboxUnavailable(f"full sandbox (namespaces+seccomp) unavailable: {reason}")

    def _job(self, scratch: Path, cells: list[str], variables: list[str]) -> dict:
        """What a sandbox process needs to know: where it runs, what it may read, what it runs."""
        return {"scratch": str(scratch), "workdir": "/submission", "cells": cells, "variables": variables,
                "hide": self.hide + [str(self.scratch_root)], "readable": self.readable, "confine": self.confine}

    def _start(self, job: dict):
        """Fork a sandbox from the fork server; return it and the end of the pipe it reports on."""
        receive, send = self.context.Pipe(duplex=False)
        process = self.context.Process(target=sandbox._sandbox_main, args=(send, job), daemon=True)
        with _without_main():
            process.start()
        send.close()
        return process, receive

    def _probe(self) -> tuple[str, str]:
        """``(isolation reached, why not full)`` from one throw-away sandbox."""
        scratch = Path(tempfile.mkdtemp(dir=self.scratch_root))
        process, receive = self._start(self._job(scratch, [], []))
        try:
            ready = json.loads(receive.recv_bytes(MAX_MESSAGE_BYTES)) if receive.poll(STARTUP_TIMEOUT) else {}
        except (EOFError, OSError, ValueError):
            ready = {}
        process.join(5)
        if process.exitcode is None:
            process.kill()
        receive.close()
        shutil.rmtree(scratch, ignore_errors=True)
        if not isinstance(ready, dict):
            ready = {}
        if ready.get("kind") == "refused":
            return "", str(ready.get("reason"))[:300]
        if not ready:
            return "", f"the sandbox ended before reporting (exit code {process.exitcode})"
        return str(ready.get("isolation", "")), "the sandbox reached only " + str(ready.get("isolation"))

    def close(self) -> None:
        shutil.rmtree(self.scratch_root, ignore_errors=True)

    def grade(self, path: Path, name: str | None = None, student: str | None = None) -> Result:
        """Grade one submission file; never raises for anything the file contains.

        ``name`` is the file's name in the gradebook (its path in the submissions folder) and
        ``student`` the id to use when the file name leaves none. A file that is not a regular file
        (a folder, a FIFO, a symbolic link, dangling or not) gets an ``invalid`` row and is never
        opened for reading (a FIFO would block). Should the grader itself fail on a file, the row
        keeps the id, set and answers found before that and says so (status ``crashed``).
        """
        path = Path(path)
        set_name, matched = match(path, self.names)
        if student and matched == path.stem:
            matched = student
        result = Result(file=name or path.name, student=matched, exercise_set=set_name or "",
                        isolation="not run")
        try:
            self._grade(path, set_name, result)
        except Exception as err:  # noqa: BLE001 - a grader bug on one file must cost that file nothing it earned
            result.worsen("crashed", f"the grader could not handle this submission ({type(err).__name__}: "
                                     f"{str(err)[:200]}); answers recorded before that were kept")
            if result.answers and set_name in self.sets:
                try:
                    self._check(self.sets[set_name], result.answers, result)
                except Exception:  # noqa: BLE001
                    pass
        return result

    def _grade(self, path: Path, set_name: str | None, result: Result) -> None:
        raw = _read_regular_file(path, result)
        if raw is None:
            return
        result.sha256 = hashlib.sha256(raw).hexdigest()
        if set_name is None:
            result.worsen("unmatched", f"the file name names no exercise set (expected one of: {', '.join(self.names)})")
            return
        if set_name not in self.sets:
            result.worsen("crashed", f"exercise set {set_name} could not be built: {self.broken.get(set_name)}")
            return
        exercise = self.sets[set_name]
        result.scores = {q.name: (None if q.manual else 0.0) for q in exercise.questions}
        result.possible = sum(q.points for q in exercise.auto)
        result.manual_possible = sum(q.points for q in exercise.questions if q.manual)
        notebook = _read_notebook(raw, result)
        if notebook is None:
            return
        cells = [c for c in notebook["cells"] if isinstance(c, dict)]
        bad = [c for c in cells if not _plain_source(c.get("source", ""))]
        if bad:
            result.flags.append("malformed-cells")
            result.problems.append(f"{len(bad)} cell(s) have a source that is not text; they were skipped")
            cells = [c for c in cells if c not in bad]
        self._inspect(exercise, notebook, cells, result)
        code = {number: cell_source(c) for number, c in enumerate(cells, start=1)
                if c.get("cell_type") == "code" and not _is_otter_plumbing(cell_source(c))}
        if len(code) > self.max_cells:
            result.flags.append("cell-limit")
            result.worsen("errors", f"the notebook has {len(code)} code cells; only the first {self.max_cells} "
                                    "(the per-notebook cell limit) were run")
            code = dict(list(code.items())[:self.max_cells])
        answers = self._run(path, raw, code, exercise, result)
        self._check(exercise, answers, result)

    def _inspect(self, exercise: ExerciseSet, notebook: dict, cells: list, result: Result) -> None:
        """Flag changed locked cells and test metadata; collect the written answers."""
        sources = {cell_source(c) for c in cells}
        changed = sum(1 for s in exercise.locked_sources if s not in sources)
        if changed:
            result.flags.append("locked-cells-changed")
            result.problems.append(f"{changed} locked cell(s) (question text or checks) were deleted or edited; "
                                   "they are not used for grading")
        metadata = notebook.get("metadata")
        otter_metadata = metadata.get("otter") if isinstance(metadata, dict) else None
        tests = otter_metadata.get("tests", {}) if isinstance(otter_metadata, dict) else None
        if tests != exercise.test_metadata:
            result.flags.append("test-metadata-changed")
            result.problems.append("the tests in the notebook's metadata were changed; they are not used for grading")
        manual = [q.name for q in exercise.questions if q.manual]
        blocks, current = [], None
        for cell in cells:
            text = cell_source(cell)
            if "<!-- END QUESTION -->" in text and current is not None:
                blocks.append(current)
                current = None
            if "<!-- BEGIN QUESTION -->" in text:
                current = []
            elif current is not None:
                current.append(text.strip())
        for name, block in zip(manual, blocks):
            answer = "\n\n".join(t for t in block if t and t != PLACEHOLDER)
            result.written[name] = answer[:20_000]

    def _run(self, path: Path, raw: bytes, code: dict[int, str], exercise: ExerciseSet, result: Result) -> dict:
        """Run the code cells (cell number -> source) in a sandbox; return the last reported answers."""
        scratch = Path(tempfile.mkdtemp(dir=self.scratch_root))
        (scratch / path.name).write_bytes(raw)
        numbers = list(code)
        answers: dict = {}
        output = index = 0
        process, receive = self._start(self._job(scratch, list(code.values()), exercise.variables))
        deadline = time.monotonic() + self.notebook_time_limit
        try:
            if not receive.poll(STARTUP_TIMEOUT):
                result.worsen("crashed", "the sandbox did not start")
                return answers
            ready = json.loads(receive.recv_bytes(MAX_MESSAGE_BYTES))
            if not isinstance(ready, dict) or ready.get("kind") != "ready":
                reason = str(ready.get("reason"))[:200] if isinstance(ready, dict) else "?"
                result.isolation = "refused"
                result.worsen("crashed", f"the sandbox could not be confined ({reason}); none of the code ran")
                return answers
            result.isolation = str(ready.get("isolation", ""))[:40]
            monitored = result.isolation == sandbox.FULL_ISOLATION
            ending = None
            cell_deadline = time.monotonic() + self.timeout
            interrupted = False
            while index < len(code):
                now = time.monotonic()
                remaining, cell_left = deadline - now, cell_deadline - now
                if not receive.poll(max(0.0, min(cell_left, remaining))):
                    if remaining <= cell_left:
                        result.flags.append("time-budget")
                        result.worsen("timeout", f"the notebook ran longer than its total budget of "
                                                 f"{self.notebook_time_limit:g} s; the run ended in cell {numbers[index]}")
                        break
                    if interrupted:
                        result.problems[-1] += "; it did not stop, so the run ended there"
                        break
                    result.worsen("timeout", f"cell {numbers[index]} ran longer than {self.timeout:g} s and was interrupted")
                    os.kill(process.pid, signal.SIGINT)
                    interrupted, cell_deadline = True, time.monotonic() + INTERRUPT_GRACE
                    continue
                report = json.loads(receive.recv_bytes(MAX_MESSAGE_BYTES))
                kind = report.get("kind") if isinstance(report, dict) else None
                if kind == "blocked":  # passed on by the monitor the moment the audit hook refused it
                    self._blocked(result, numbers[index], [report.get("what")])
                    continue
                if kind == "end":  # the notebook's process ended before reporting every cell
                    ending = report
                    result.worsen("crashed", f"the sandbox process ended in cell {numbers[index]} (exit status "
                                             f"{report.get('status')}); answers reported before that were kept")
                    break
                if kind != "cell" or report.get("index") != index:
                    result.worsen("crashed", f"the sandbox sent an unexpected report after cell {numbers[index]}; "
                                             "the run ended there")
                    break
                raw = receive.recv_bytes(MAX_MESSAGE_BYTES)  # the cell's answers, as the notebook encoded them
                reported = json.loads(raw)
                answers = reported if isinstance(reported, dict) else answers
                result.answers = answers
                if report.get("too_large") is True:
                    result.worsen("errors", f"the answers after cell {numbers[index]} were larger than "
                                            f"{sandbox.MAX_REPORT_BYTES // 2**20} MB and were not read; "
                                            "those reported before were kept")
                measured = report.get("output")
                output = max(output, measured if type(measured) is int else 0)
                self._tampering(result, report.get("tampering"))
                error = str(report.get("error") or "")
                if error and not error.startswith("KeyboardInterrupt"):
                    result.worsen("errors", f"cell {numbers[index]} raised {error[:300]}")
                    if "No space left on device" in error or "Disk quota" in error:
                        if "disk-quota" not in result.flags:
                            result.flags.append("disk-quota")
                        result.problems.append(f"cell {numbers[index]} filled the working folder's quota of "
                                               f"{sandbox.DISK_QUOTA // 2**20} MB")
                if report.get("blocked"):
                    self._blocked(result, numbers[index], list(report["blocked"]))
                index += 1
                cell_deadline, interrupted = time.monotonic() + self.timeout, False
            if monitored and ending is None and index == len(code):  # the monitor's last word: exit, tampering
                while receive.poll(INTERRUPT_GRACE):
                    report = json.loads(receive.recv_bytes(MAX_MESSAGE_BYTES))
                    if isinstance(report, dict) and report.get("kind") == "blocked":
                        self._blocked(result, numbers[-1] if numbers else 0, [report.get("what")])
                    elif isinstance(report, dict) and report.get("kind") == "end":
                        ending = report
                        break
            if ending is not None:
                measured = ending.get("output")
                output = max(output, measured if type(measured) is int else 0)
                self._tampering(result, ending.get("tampering"))
        except RecursionError:
            result.worsen("crashed", f"the sandbox's report after cell {numbers[min(index, len(numbers) - 1)]} was "
                                     "nested too deeply to read; answers reported before that were kept")
        except (EOFError, OSError, ValueError) as err:
            where = f"in cell {numbers[index]}" if index < len(numbers) else "at the end"
            result.worsen("crashed", f"the sandbox process ended {where} ({type(err).__name__}); "
                                     "answers reported before that were kept")
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the sandbox and anything it started
            except (ProcessLookupError, PermissionError, TypeError):
                pass
            if process.pid is not None:
                process.kill()
            process.join(5)
            receive.close()
            shutil.rmtree(scratch, ignore_errors=True)
        if output > OUTPUT_LIMIT:
            result.worsen("output-limit", f"the notebook printed {output / 2**20:.0f} MB; output is discarded "
                                          f"(limit {OUTPUT_LIMIT // 2**20} MB) and grading went on")
        return answers

    @staticmethod
    def _blocked(result: Result, number: int, actions: list) -> None:
        """Record actions the sandbox refused in cell ``number``."""
        if "blocked-access" not in result.flags:
            result.flags.append("blocked-access")
        text = f"cell {number}: the sandbox refused "
        actions = [str(a)[:150] for a in actions[:3]]
        if result.problems and result.problems[-1].startswith(text):
            if result.problems[-1].count(";") < 2:
                result.problems[-1] += "; " + "; ".join(actions)
        else:
            result.problems.append(text + "; ".join(actions))

    @staticmethod
    def _tampering(result: Result, found) -> None:
        """Record what the monitor found wrong with the report channels (each thing once)."""
        if not isinstance(found, list):
            return
        for what in found[:5]:
            problem = f"the notebook tampered with the sandbox's reports: {str(what)[:200]}"
            if problem not in result.problems:
                if "report-tampering" not in result.flags:
                    result.flags.append("report-tampering")
                result.worsen("errors", problem)

    def _check(self, exercise: ExerciseSet, answers: dict, result: Result) -> None:
        """Rebuild the answers by value and run each question's tests on them, here."""
        env = {}
        for name in exercise.variables:
            if name not in answers:
                continue
            try:
                env[name] = decode(answers[name])
            except Exception as err:  # noqa: BLE001 - malformed report: the answer counts as unsupported
                env[name] = Unsupported(f"unreadable ({type(err).__name__})")
            if type(env[name]) is Unsupported and "unsupported-answer-type" not in result.flags:
                result.flags.append("unsupported-answer-type")
        for name, value in env.items():
            if type(value) is Unsupported:
                result.problems.append(f"`{name}` has a type the grader does not accept ({value.type_name}); "
                                       "use a plain int, float, str, list, dict, Series or DataFrame")
        for question in exercise.auto:
            score, failures = run_tests(question.test_file, env)
            result.scores[question.name] = score
            if failures:
                result.failures[question.name] = failures


_START_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_main():
    """Hide ``__main__`` while a sandbox starts, so that multiprocessing does not re-run the
    caller's script in it (sandboxes need nothing from it, and scripts without an
    ``if __name__ == "__main__"`` guard would break)."""
    with _START_LOCK:
        real = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = real


def run_tests(test_file: Path, env: dict) -> tuple[float, list[str]]:
    """Run one otter test file on plain answers; return the points earned and failure messages.

    Otter parses the file and resolves the points; each case runs here so that the message of a
    hidden case is shown only when it is the test's own ``assert`` message (written to be shown),
    never a traceback that could reveal the expected value.
    """
    from otter.test_files.abstract_test import TestCaseResult  # importing otter takes seconds: only when checking

    tests = parse_tests(test_file)
    if not all(hasattr(case.body, "call_func") for case in tests.test_cases):  # OK-format doctests
        tests.run({**env, "pd": pd, "np": np})
        messages = [("A hidden check failed." if r.test_case.hidden else r.message)
                    for r in tests.test_case_results if not r.passed]
        return tests.score, messages
    results, messages = [], []
    for case in tests.test_cases:
        try:
            case.body.call_func(env)
            results.append(TestCaseResult(case, "passed", True))
        except Exception as err:  # noqa: BLE001 - a failing test, whatever it raised
            own = isinstance(err, AssertionError) and _raised_in(err, str(test_file)) and str(err)
            if own:
                message = str(err)
            elif case.hidden:
                message = "A hidden check of the answer's value failed."
            else:
                message = f"{type(err).__name__}: {str(err)[:300]}"
            label = "hidden check" if case.hidden else "check"
            messages.append(f"{label} `{case.name}`: {message}")
            results.append(TestCaseResult(case, message, False))
    tests.test_case_results = results
    return round(float(tests.score), 4), messages


def _raised_in(err: BaseException, filename: str) -> bool:
    """Whether the innermost frame of ``err``'s traceback is in ``filename``."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename == filename


def _read_regular_file(path: Path, result: Result) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (not followed if a link, never blocking on a FIFO),
    else None with the row marked ``invalid``."""
    import stat

    try:
        info = os.lstat(path)
    except OSError as err:
        result.worsen("invalid", f"could not read the file ({err.strerror})")
        return None
    kinds = {stat.S_ISLNK: "a symbolic link (not followed)", stat.S_ISDIR: "a folder, not a notebook file",
             stat.S_ISFIFO: "a named pipe (FIFO), not a notebook file", stat.S_ISSOCK: "a socket, not a file",
             stat.S_ISCHR: "a device, not a file", stat.S_ISBLK: "a device, not a file"}
    for test, what in kinds.items():
        if test(info.st_mode):
            if test is stat.S_ISLNK and not os.path.exists(path):
                what = "a symbolic link to nothing (dangling)"
            result.worsen("invalid", what)
            return None
    if info.st_size > MAX_FILE_BYTES:
        result.worsen("invalid", f"file larger than {MAX_FILE_BYTES // 2**20} MB; not read")
        return None
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        result.worsen("invalid", f"could not read the file ({err.strerror})")
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):  # swapped since the lstat
            result.worsen("invalid", "not a regular file")
            return None
        chunks, size = [], 0
        while chunk := os.read(handle, 2**20):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                result.worsen("invalid", f"file larger than {MAX_FILE_BYTES // 2**20} MB; not read")
                return None
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(handle)


def _plain_source(source) -> bool:
    """Whether a cell's source is what nbformat allows: a string or a list of strings."""
    return type(source) is str or (type(source) is list and all(type(line) is str for line in source))


def _read_notebook(raw: bytes, result: Result) -> dict | None:
    """The submission as a notebook dict, or None (status ``invalid``) if it is not one."""
    try:
        notebook = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # ValueError: e.g. a 5,000-digit int
        result.worsen("invalid", f"not a notebook: the file is not valid JSON ({type(err).__name__})")
        return None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list) or notebook.get("nbformat") != 4:
        result.worsen("invalid", "not a notebook: valid JSON, but no nbformat 4 'cells' list")
        return None
    return notebook


def _is_otter_plumbing(source: str) -> bool:
    """Whether a cell only sets up or calls otter (``import otter``, ``grader = otter.Notebook(...)``,
    ``grader.check("q1")``...): grading never runs those, whatever the student made of them."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    if not tree.body:
        return False
    for node in tree.body:
        if isinstance(node, ast.Import) and [a.name for a in node.names] == ["otter"]:
            continue
        value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] != ["grader"]:
            return False
        call = value if isinstance(value, ast.Call) else None
        target = call.func if call is not None else None
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in {"grader", "otter"}:
            continue
        return False
    return True
