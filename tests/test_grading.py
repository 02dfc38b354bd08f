"""The batch grader: hostile submissions get an honest row, never more points than their answers earn.

``tests/fixtures/submissions/`` holds one submission per hostile case (made by
``tests/fixtures/make_submissions.py``) plus a correct, a partial and a blank one;
``tests/fixtures/expected_gradebook.csv`` is what grading them must produce.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coursepack.grading import answers, cli, sandbox
from coursepack.grading import grader as grading

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUBMISSIONS = FIXTURES / "submissions"
QUESTIONS = ["q1", "q2", "q3", "q4", "q5", "q6"]
TIMEOUT = 5  # seconds per cell: long enough for any honest cell, short enough for the infinite loop


def hashes(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under ``folder`` (links and FIFOs by kind, never opened)."""
    found = {}
    for p in sorted(folder.rglob("*")):
        mode = os.lstat(p).st_mode
        found[str(p.relative_to(folder))] = (hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(mode)
                                             else f"link to {os.readlink(p)}" if stat.S_ISLNK(mode) else stat.filemode(mode))
    return found


def processes():
    """``(pid, name, command line, state)`` of every process this test can read in /proc."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        yield entry.name, fields.get("Name", ""), command, fields.get("State", "")


def leftover_processes() -> list[str]:
    """Processes the attack submission tried to leave behind (it names them cpk-leftover)."""
    return [pid for pid, name, _, _ in processes() if name == "cpk-leftover"]


def sandbox_processes() -> list[str]:
    """Live processes of this checkout's graders' fork servers (the server and the sandboxes it forked)."""
    return [pid for pid, _, command, state in processes() if not state.startswith("Z")
            and "multiprocessing.forkserver" in command and repr(str(ROOT)) in command]


MARKERS = [Path("/tmp/cpk-escape-marker"), Path.home() / "cpk-escape-marker", ROOT / "cpk-escape-marker",
           ROOT / "tests" / "cpk-escape-marker"]


def expected_rows() -> dict[str, dict]:
    with open(FIXTURES / "expected_gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the fixture folder once: (hashes before, hashes after, output folder, gradebook rows)."""
    out = tmp_path_factory.mktemp("grades")
    folder = tmp_path_factory.mktemp("submitted") / "submissions"
    shutil.copytree(SUBMISSIONS, folder, symlinks=True)
    os.mkfifo(folder / "fifo_01-the-deployment.ipynb")  # git keeps no FIFO: made here
    before = hashes(folder)
    cli.grade_folder(folder, out, timeout=TIMEOUT, workers=2, progress=False, notebook_time_limit=20)
    after = hashes(folder)
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
    assert before == after and "fifo_01-the-deployment.ipynb" in after


@pytest.mark.slow
def test_every_row_ran_fully_confined_and_left_nothing_behind(graded):
    _, _, out, rows = graded
    for name, row in rows.items():
        assert row["sandbox"] in (sandbox.FULL_ISOLATION, "not run"), (name, row["sandbox"])
        assert (row["sandbox"] == "not run") == (row["status"] in ("invalid", "unmatched")), (name, row["sandbox"])
    assert not leftover_processes(), "a process the attack started outlived its sandbox"
    assert not [m for m in MARKERS if m.exists()], "a submission wrote outside its sandbox"
    assert sorted(p.name for p in out.iterdir()) == ["feedback", "gradebook.csv"]


@pytest.mark.slow
def test_the_grader_reveals_nothing_of_itself_to_a_notebook(graded):
    _, _, _, rows = graded
    message = rows["environ_01-the-deployment.ipynb"]["message"]
    assert "'PATH'" in message and "PWD" not in message and str(ROOT) not in message
    assert "()" in message and "Connection" not in message and "scratch" not in message


@pytest.mark.slow
def test_feedback_has_failures_and_written_answers_but_no_hidden_test_text(graded):
    _, _, out, rows = graded
    files = sorted((out / "feedback").glob("*.md"))
    assert len(files) == len(rows)  # one each: no two rows share a name
    assert (out / "feedback" / "\u00e9tudiant_01-the-deployment.md").exists()  # non-ASCII ids kept
    correct = (out / "feedback" / "correct_01-the-deployment.md").read_text(encoding="utf-8")
    assert "Figures counted different things" in correct  # the written answer, for the human grader
    partial = (out / "feedback" / "partial_01-the-deployment.md").read_text(encoding="utf-8")
    assert "### q4: what did not pass" in partial and "count different things" in partial
    hidden_values = ["article_4_choice == 2", "assert report_gaps == expected", "data.load(\"troop_estimates\")"]
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
    assert (correct.total, snoop.total, saved.total) == (15, 5, 15)
    assert snoop.isolation == "audit hook only" and "blocked-access" in snoop.flags
    assert saved.status == "ok"


def submission_with(cells: list[str]) -> dict:
    """The correct submission with code cells added at its end."""
    nb = json.loads((SUBMISSIONS / "correct_01-the-deployment.ipynb").read_text(encoding="utf-8"))
    nb["cells"] += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
                    for c in cells]
    return nb


FORGER = """
import sys, coursepack.grading.sandbox as box
print("x" * 11_000_000)
try:
    open("/etc/shadow").read()
except OSError:
    pass
box._report = lambda namespace, variables: b'{}'  # too late: the loop bound its own
box._CappedOutput.write = lambda self, text: 0
frame = sys._getframe()
while frame is not None:  # take the attempt back, zero every counter in sight
    for value in list(frame.f_locals.values()):
        if type(value) is list and value and type(value[0]) is str and value[0].startswith("open"):
            value.clear()
        if hasattr(value, "count") and type(getattr(value, "count", None)) is int:
            value.count = 0
    frame = frame.f_back
"""
CLOSER = "import os, time\nos.closerange(3, 1024)\ntime.sleep(0.5)"
INJECTOR = """
import json, os, stat, struct
head = json.dumps({"kind": "cell", "index": 99, "error": None}).encode()
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, struct.pack("<II", len(head), 2) + head + b"{}")
    except OSError:
        pass
"""


@pytest.mark.slow
def test_output_refusals_and_tampering_are_measured_by_the_monitor(tmp_path):
    """Printed output and refused actions are counted outside the notebook's process, so that a
    notebook cannot erase them; closing or forging the report channels is flagged."""
    folder = tmp_path / "subs"
    folder.mkdir()
    hoarder = "report_gaps = ['x' * 99_999] * (sandbox.MAX_REPORT_BYTES // 99_999 + 1)"  # each string within limits
    reorderer = INJECTOR.replace('"index": 99', '"index": 0')  # cell 1's report again, out of order
    garbler = INJECTOR.replace('struct.pack("<II", len(head), 2) + head + b"{}"', 'b"\\xff" * 64')
    for who, cell in (("forger", FORGER), ("closer", CLOSER), ("injector", INJECTOR), ("hoarder", hoarder),
                      ("reorderer", reorderer), ("garbler", garbler)):
        cell = cell.replace("sandbox.MAX_REPORT_BYTES", str(sandbox.MAX_REPORT_BYTES))
        (folder / f"{who}_01-the-deployment.ipynb").write_text(json.dumps(submission_with([cell])), encoding="utf-8")
    grader = grading.Grader(timeout=TIMEOUT, hide=[folder], only={"01-the-deployment"})
    try:
        assert grader.confine, grader.weak_reason
        forger, closer, injector, hoarder, reorderer, garbler = (
            grader.grade(folder / f"{who}_01-the-deployment.ipynb")
            for who in ("forger", "closer", "injector", "hoarder", "reorderer", "garbler"))
    finally:
        grader.close()
    assert forger.total == 15 and forger.status == "output-limit", forger.problems
    assert "blocked-access" in forger.flags and "report-tampering" not in forger.flags, forger.problems
    assert any("/etc/shadow" in p for p in forger.problems)
    for row in (closer, injector, reorderer, garbler):
        assert row.total == 15 and "report-tampering" in row.flags, row.problems
        assert any("tampered" in p for p in row.problems)
    assert any("more reports than cells" in p for p in injector.problems), injector.problems
    assert any("out-of-order" in p for p in reorderer.problems), reorderer.problems
    assert any("malformed" in p for p in garbler.problems), garbler.problems
    assert hoarder.total == 15 and hoarder.status == "errors" and "report-tampering" not in hoarder.flags
    assert any("larger than" in p for p in hoarder.problems), hoarder.problems


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


def run_in_sandbox(grader, cells: list[str], variables: list[str]) -> tuple[str, dict]:
    """Run cells in one sandbox of ``grader``; return its isolation and the last answers, decoded."""
    scratch = Path(tempfile.mkdtemp(dir=grader.scratch_root))
    process, receive = grader._start(grader._job(scratch, cells, variables))
    try:
        ready = json.loads(receive.recv_bytes())
        reported = {}
        for _ in cells:
            while True:
                assert receive.poll(60)
                report = json.loads(receive.recv_bytes())
                if report["kind"] == "cell":
                    break
            reported = json.loads(receive.recv_bytes())  # the answers follow each cell's row
        return ready.get("isolation"), {k: answers.decode(v) for k, v in reported.items()}
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.join(5)


PROBES = """
import ctypes, os, threading, multiprocessing
libc = ctypes.CDLL(None, use_errno=True)
class Limit(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_uint64), ("max", ctypes.c_uint64)]
tiny = Limit(1, 1)
pid, uid, gid = os.getpid(), os.getuid(), os.getgid()
env = sorted(os.environ)
args = repr(multiprocessing.current_process()._args)
calls = {
    "kill other": libc.kill(2, 0), "kill all": libc.kill(-1, 0), "tkill": libc.syscall(200, 1, 0),
    "rt_sigqueueinfo": libc.syscall(129, 1, 10, None), "rt_tgsigqueueinfo": libc.syscall(297, 1, 1, 10, None),
    "prlimit64 set": libc.syscall(302, 0, 7, ctypes.byref(tiny), None), "setrlimit": libc.syscall(160, 7, ctypes.byref(tiny)),
    "setpriority": libc.setpriority(0, 0, 19), "sched_setaffinity": libc.syscall(203, 0, 8, ctypes.byref(ctypes.c_uint64(1))),
    "ptrace": libc.ptrace(0, 0, None, None), "pidfd_open": libc.syscall(434, 1, 0),
    "process_vm_readv": libc.syscall(310, 1, None, 0, None, 0, 0), "setsid": libc.setsid(), "setpgid": libc.setpgid(0, 0),
    "unshare": libc.unshare(0x10000000), "clone newuser": libc.syscall(56, 0x10000000 | 17, None, None, None, None),
    "setuid": libc.syscall(105, 0),
}
refused = sorted(name for name, status in calls.items() if status != 0)
import platform
from coursepack.grading.sandbox import _ARCHES, _SYSCALLS
column = _ARCHES[platform.machine()][0]
allowed_through = []
for name, numbers in _SYSCALLS.items():  # each denied call, with harmless arguments: EPERM from the filter
    if name in ("kill", "tgkill", "prlimit64", "clone", "clone3") or numbers[column] is None:
        continue
    if libc.syscall(numbers[column], 0, 0, 0, 0, 0, 0) != -1 or ctypes.get_errno() != 1:
        allowed_through.append(name)
reads_limit = libc.syscall(302, 0, 7, None, ctypes.byref(tiny)) == 0
box = []
threads = [threading.Thread(target=box.append, args=(1,)) for _ in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
threads_ran = len(box)
import sys
frame, stack = sys._getframe().f_back, []
while frame is not None:  # every frame the notebook can reach: what the grader left there
    stack.append(frame.f_code.co_name + repr(frame.f_locals)[:20000])
    frame = frame.f_back
stack = chr(10).join(stack)
"""


@pytest.mark.slow
def test_sandbox_is_pid_one_unprivileged_and_cannot_reach_the_grader():
    grader = grading.Grader(timeout=TIMEOUT, sets={})
    try:
        assert grader.confine, grader.weak_reason
        isolation, got = run_in_sandbox(grader, [PROBES], ["pid", "uid", "gid", "env", "args", "refused",
                                                           "reads_limit", "threads_ran", "stack",
                                                           "allowed_through"])
    finally:
        grader.close()
    assert not grader.scratch_root.exists(), "scratch folders left behind"
    assert isolation == sandbox.FULL_ISOLATION
    assert (got["pid"], got["uid"], got["gid"]) == (1, sandbox.SANDBOX_UID, sandbox.SANDBOX_GID)
    assert got["args"] == "()" and "PWD" not in got["env"] and "OLDPWD" not in got["env"]
    assert got["stack"].startswith("run_code")  # as far as the frames go (Python 3.11 stops at IPython's)
    for secret in (str(grader.scratch_root), "Connection", "'hide'", "'scratch'", str(ROOT / "tests")):
        assert secret not in got["stack"], f"a frame the notebook can read holds {secret}"
    assert got["refused"] == sorted(["kill other", "kill all", "tkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                                     "prlimit64 set", "setrlimit", "setpriority", "sched_setaffinity", "ptrace",
                                     "pidfd_open", "process_vm_readv", "setsid", "setpgid", "unshare",
                                     "clone newuser", "setuid"])
    assert got["reads_limit"] is True and got["threads_ran"] == 16
    assert got["allowed_through"] == [], "system calls the seccomp filter should refuse"


def host_ids(pid: int) -> tuple[list[int], list[int], str]:
    """The uids, gids and supplementary groups of ``pid`` as the host sees them."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return ([int(v) for v in fields["Uid"].split()], [int(v) for v in fields["Gid"].split()],
            fields["Groups"].strip())


@pytest.mark.slow
def test_the_sandbox_runs_under_a_host_uid_of_its_own():
    """Seen from the host, the monitor and the notebook's process run as neither root nor the grader."""
    grader = grading.Grader(timeout=TIMEOUT, sets={})
    if sandbox._host_ids(os.getuid(), os.getgid(), grader.readable) is None:
        grader.close()
        pytest.skip("no uid of its own here: an unprivileged grader without subordinate ids, or folders others cannot read")
    scratch = Path(tempfile.mkdtemp(dir=grader.scratch_root))
    process, receive = grader._start(grader._job(scratch, ["import time\ntime.sleep(3)\nwrote = open('x', 'w').write('ok')"],
                                                 ["wrote"]))
    try:
        assert json.loads(receive.recv_bytes())["isolation"] == sandbox.FULL_ISOLATION
        time.sleep(0.5)
        children = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/status")
                    if f"\nPPid:\t{process.pid}\n" in p.read_text()]
        assert len(children) == 1, children  # the notebook's process, PID 1 of its namespace
        seen = {pid: host_ids(pid) for pid in (process.pid, children[0])}
        while json.loads(receive.recv_bytes())["kind"] != "cell":
            pass
        wrote = json.loads(receive.recv_bytes())["wrote"]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.join(5)
        grader.close()
    for pid, (uids, gids, groups) in seen.items():
        assert len(set(uids)) == 1 and len(set(gids)) == 1, (pid, uids, gids)
        assert uids[0] not in (0, os.getuid()) and gids[0] not in (0, os.getgid()), (pid, uids, gids)
        assert groups == "", (pid, groups)
        if os.getuid() == 0:
            assert (uids[0], gids[0]) == (sandbox.SANDBOX_HOST_UID, sandbox.SANDBOX_HOST_GID)
    assert answers.decode(wrote) == 2  # the working folder stays writable under that uid


UNPRIVILEGED_GRADER = """
import json, os, signal, tempfile, time
from pathlib import Path
from coursepack.grading import grader
from tests.test_grading import host_ids
g = grader.Grader(timeout=5, sets={})
scratch = Path(tempfile.mkdtemp(dir=g.scratch_root))
process, receive = g._start(g._job(scratch, ["import time\\ntime.sleep(2)"], []))
ready = json.loads(receive.recv_bytes())
time.sleep(0.5)
child = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/status") if f"\\nPPid:\\t{process.pid}\\n" in p.read_text()]
print(json.dumps([ready["isolation"], os.getuid(), host_ids(child[0])[0]]))
os.killpg(process.pid, signal.SIGKILL)
g.close()
"""


@pytest.mark.slow
@pytest.mark.skipif(os.getuid() != 0, reason="needs root to start a grader as another user")
def test_an_unprivileged_grader_without_subordinate_ids_still_grades_fully_confined():
    """Not root and no /etc/subuid entry: the sandbox keeps the grader's own uid on the host, but grading goes on."""
    for folder in [*Path(os.path.realpath(sys.executable)).parents, *ROOT.parents, ROOT]:
        if os.stat(folder).st_mode & 0o001 == 0:
            pytest.skip(f"{folder} cannot be entered by another user, so no other user can run this Python")
    home = Path(tempfile.mkdtemp(dir="/tmp", prefix="coursepack-unprivileged-"))
    os.chown(home, 54321, 54321)
    try:
        done = subprocess.run([sys.executable, "-c", UNPRIVILEGED_GRADER], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, user=54321, group=54321, extra_groups=[],
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
                                   "PYTHONPATH": str(ROOT), "TMPDIR": str(home)})
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if done.returncode != 0 and "user namespaces unavailable" in done.stderr:
        pytest.skip("this machine gives no user namespaces to unprivileged users")
    assert done.returncode == 0, done.stderr[-2000:]
    isolation, uid, seen = json.loads(done.stdout.splitlines()[-1])
    assert isolation == sandbox.FULL_ISOLATION and uid == 54321 and set(seen) == {54321}


def test_the_seccomp_denylist_covers_every_call_that_reaches_out():
    missing = [name for name in sandbox.MUST_REFUSE if name not in sandbox._SYSCALLS]
    assert not missing, missing
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register", "pidfd_getfd", "process_madvise",
                 "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
                 "quotactl_fd", "kcmp", "userfaultfd", "perf_event_open", "bpf", "setns", "open_by_handle_at"):
        assert name in sandbox.MUST_REFUSE, name
    numbers = [n[0] for n in sandbox._SYSCALLS.values()]
    assert len(numbers) == len(set(numbers)), "two names share an x86_64 number"
    arm = [n[1] for n in sandbox._SYSCALLS.values() if n[1] is not None]
    assert len(arm) == len(set(arm)), "two names share an aarch64 number"


@pytest.mark.slow
def test_grading_from_a_clone_under_tmp_is_fully_confined():
    """The repository under /tmp (readable paths under /tmp) must still give the full sandbox."""
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="coursepack-clone-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        shutil.rmtree(clone / "coursepack")
        shutil.copytree(ROOT / "coursepack", clone / "coursepack",
                        ignore=shutil.ignore_patterns("__pycache__"))  # the code as it is now, committed or not
        shutil.copy(ROOT / "tests" / "test_grading.py", clone / "tests" / "test_grading.py")
        script = ("import json, coursepack\n"
                  "from coursepack.grading import grader\n"
                  "from tests.test_grading import run_in_sandbox\n"
                  "g = grader.Grader(timeout=5, sets={})\n"
                  "isolation, got = run_in_sandbox(g, ['import os\\nuid = os.getuid()\\ntmp = os.listdir(\"/tmp\")'], ['uid', 'tmp'])\n"
                  "g.close()\n"
                  "print(json.dumps([coursepack.__file__, isolation, got['uid']]))\n")
        done = subprocess.run([sys.executable, "-c", script], cwd=clone, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(clone)})
        assert done.returncode == 0, done.stderr[-2000:]
        where, isolation, uid = json.loads(done.stdout.splitlines()[-1])
    assert where.startswith(tmp) and isolation == sandbox.FULL_ISOLATION and uid == sandbox.SANDBOX_UID


def test_grading_refuses_without_the_full_sandbox(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(grading.Grader, "_probe", lambda self: ("", "user namespaces unavailable (testing)"))
    (tmp_path / "subs").mkdir()
    assert cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out")]) == 3
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--allow-weak-sandbox" in error and "unavailable" in error
    assert cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--allow-weak-sandbox"]) == 0


@pytest.mark.slow
def test_rows_are_appended_as_graded_and_a_rerun_resumes(tmp_path):
    folder, out = tmp_path / "subs", tmp_path / "out"
    folder.mkdir()
    for name in ("correct_01-the-deployment.ipynb", "infiniteloop_01-the-deployment.ipynb"):
        shutil.copy(SUBMISSIONS / name, folder / name)
    command = [sys.executable, "-m", "coursepack.grading", str(folder), "--out", str(out), "--workers", "1",
               "--timeout", "3"]
    running_before = set(sandbox_processes())  # e.g. the fork server of a grader other tests share
    batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if (out / "gradebook.csv").exists() and len((out / "gradebook.csv").read_text().splitlines()) >= 2:
                break
            time.sleep(0.2)
    finally:
        os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()
    deadline = time.monotonic() + 10  # the sandbox grading the endless loop must end with its grader
    while set(sandbox_processes()) - running_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not set(sandbox_processes()) - running_before, "sandboxes outlived the grader that was killed"
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        first = list(csv.DictReader(handle))
    assert [r["file"] for r in first] == ["correct_01-the-deployment.ipynb"] and first[0]["total"] == first[0]["possible"] == "15"
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Kept 1 row" in done.stdout, done.stdout + done.stderr
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = {r["file"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"correct_01-the-deployment.ipynb", "infiniteloop_01-the-deployment.ipynb"}
    assert rows["infiniteloop_01-the-deployment.ipynb"]["total"] == expected_rows()["infiniteloop_01-the-deployment.ipynb"]["total"]


def test_multiindex_answers_travel_and_type_names_are_the_graders():
    series = pd.Series([1, 2], index=pd.MultiIndex.from_arrays([["a", "b"], [1, 2]], names=["k", "n"]), name="x")
    pd.testing.assert_series_equal(roundtrip(series), series)

    class Meta(type):
        def __eq__(cls, other):
            return True

        __hash__ = type.__hash__

    class Lies(metaclass=Meta):
        __qualname__ = "int"
        __module__ = "builtins"

    class Sub(list):
        __qualname__ = "list"

    assert repr(roundtrip(Lies())) == "<answer of unsupported type a class defined in the notebook>"
    assert repr(roundtrip(Sub([1]))) == "<answer of unsupported type a subclass of list>"


def test_duplicates_are_found_whatever_the_copy_suffix():
    entries = [(Path(n), n, None) for n in ("alice_01-the-deployment.ipynb", "alice_01-the-deployment (1).ipynb",
                                            "Alice_01-the-deployment - Copy.IPYNB", "bob_01-the-deployment.ipynb")]
    assert cli._duplicates(entries, ["01-the-deployment"]) == {e[1] for e in entries[:3]}
