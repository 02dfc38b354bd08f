"""The sandbox: a process forked from the fork server confines itself, runs a notebook's cells, reports answers.

It is kept apart from the grader, which never runs student code, so that everything that runs next to student
code (and all that the fork server preloads) is in one module.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys

from coursepack.grading.answers import _exact_type, _type_name, encode

MEMORY_LIMIT = 4 * 2**30  #: address space a sandbox may add to what the fork server uses
FILE_SIZE_LIMIT = 64 * 2**20  #: largest file a sandbox may write in its scratch folder
FULL_ISOLATION = "namespaces+seccomp"  #: the mode every sandbox must reach unless weak sandboxes are allowed
SANDBOX_UID = SANDBOX_GID = 1000  #: the unprivileged user and group a submission runs as, inside its namespaces
#: The host's uid and gid a sandbox runs as when the grader is root ("nobody"): never the grader's own.
SANDBOX_HOST_UID = SANDBOX_HOST_GID = 65534
DISK_QUOTA = 64 * 2**20  #: size of the in-memory working folder a confined notebook may write in
THREAD_LIMIT = 64  #: threads and processes a confined notebook may have at once
#: The whole environment a notebook sees (nothing of the grader's: no paths, no PWD).
ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "TZ": "UTC"}
#: Modules loaded once in the fork server, so that no submission pays for them.
PREWARM_MODULES = ("numpy", "pandas", "altair", "IPython", "otter", "coursepack.lessons.data", "coursepack.lessons.charts")


def _prewarm() -> None:
    """Load what notebooks use, once, in the fork server (never in a process that runs students' code)."""
    import importlib

    for name in PREWARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional module; submissions that need it import it
            pass
    try:
        from coursepack.lessons import data

        data.load_all()
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False  # no sqlite file, no history thread before fork
        InteractiveShell.instance(config=config)
    except Exception:  # noqa: BLE001 - the sandbox reports any real problem per submission
        pass


if os.environ.pop("COURSEPACK_GRADER_PREWARM", None) == "1":  # set only for the fork server
    _prewarm()


OUTPUT_COUNT_CAP = 2**40  #: the monitor counts printed bytes up to this and discards them all
MAX_REPORT_BYTES = 16 * 2**20  #: largest answer report the monitor accepts from a notebook
MAX_HEADER_BYTES = 4096  #: largest report header (kind, cell index, error) the monitor accepts
BLOCKED_PER_CELL = 20  #: refused actions passed on per cell (the rest are counted)
_FRAME = "<II"  #: a report on the answer pipe: header length, answers length, header JSON, answers JSON
LOST_CHANNEL_STATUS = 75  #: exit status of a notebook's process that found its report channel gone


class _CappedOutput:
    """Stands in for sys.stdout/sys.stderr in the weak sandbox: counts what is printed and keeps none of it."""

    encoding, errors = "utf-8", "replace"

    def __init__(self):
        self.count = 0

    def write(self, text) -> int:
        self.count += len(text) if type(text) is str else 0
        return len(text) if type(text) is str else 0

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        return 1


def _pipe_reporter(answers_fd: int, blocked_fd: int):
    """``(record, send)`` for a confined notebook: ``record(text)`` writes a refused action to the
    monitor at once (before control returns to the notebook), ``send(header, answers)`` one report.

    Everything they use is bound now, before any student code runs. A notebook that finds these
    descriptors can close them or write to them: that makes the monitor stop trusting the channel
    and flag the row; it cannot take back what was already written.
    """
    import struct

    write, dumps, pack, len_, min_ = os.write, json.dumps, struct.pack, len, min

    def record(text, write=write, fd=blocked_fd, str=str) -> None:
        try:
            write(fd, str(text).encode("utf-8", "replace")[:1000].replace(b"\n", b" ") + b"\n")
        except OSError:  # the notebook closed it: the monitor has seen the channel close
            pass

    def send(header: dict, answers: bytes = b"", write=write, fd=answers_fd) -> None:
        head = dumps(header).encode()
        data = memoryview(pack(_FRAME, len_(head), len_(answers)) + head + answers)
        while data:
            data = data[write(fd, data[:min_(len_(data), 2**16)]):]

    return record, send


def _conn_reporter(conn, output: _CappedOutput):
    """``(record, send)`` for the weak sandbox (no monitor): reports go straight to the grader."""
    blocked: list[str] = []

    def record(text) -> None:
        blocked.append(str(text)[:200])

    def send(header: dict, answers: bytes = b"") -> None:
        if header.get("kind") == "ready":
            header = {**header, "isolation": "audit hook only"}
        if header.get("kind") != "cell":
            conn.send_bytes(json.dumps(header).encode())
            return
        conn.send_bytes(json.dumps({**header, "output": output.count, "blocked": blocked[:BLOCKED_PER_CELL],
                                    "tampering": []}).encode())
        conn.send_bytes(answers)
        del blocked[:]

    return record, send


def _sandbox_main(conn, job: dict) -> None:
    """Entry point of the sandbox process: set up confinement, run the cells, report after each.

    With full confinement this process becomes the **monitor** (:func:`_monitor`): it runs no
    student code, holds the only connection to the grader, and measures the notebook, which runs in
    a child it forked (PID 1 of its own PID namespace), from outside: printed output (fds 1 and 2
    are a pipe the monitor drains and counts), refused actions (written by the audit hook to a pipe
    at the moment of refusal), exit status and time; it forwards the answers the child reports and
    flags any tampering with the channels. In the weak sandbox (audit hook only) the process reports
    itself, as a notebook's own process must: its count of printed output and refused actions could
    be forged by the notebook.

    Messages to the grader are JSON: ``{"kind": "ready", "isolation"}`` (or ``"refused"``), then per
    cell ``{"kind": "cell", "index", "error", "output", "blocked", "tampering"}`` followed by one
    message holding that cell's answers (JSON as the notebook encoded them), ``{"kind":
    "blocked", "what"}`` as refusals happen, and finally ``{"kind": "end", "status", "seconds",
    "output", "tampering"}`` from the monitor (or ``{"kind": "done"}`` in the weak sandbox).
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    job = {**job, "parent": os.getppid()}
    _die_with_parent(job["parent"])  # a grader killed mid-batch takes its sandboxes with it
    os.setsid()  # its own process group, so that the grader can end it and anything it started
    _forget_job()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    _set_environment(job["scratch"])
    os.chdir(job["scratch"])
    _limit_resources()
    isolation = "audit hook only"
    cells, variables, confine = list(job["cells"]), list(job["variables"]), bool(job["confine"])
    readable = tuple(os.path.realpath(p) for p in job["readable"])
    if confine:
        problem, channels = _confine(job, conn)  # from here on: PID 1 of its own PID namespace, no grader connection
        if channels is not None:
            conn = None
            record, send = _pipe_reporter(*channels)
        if problem is None and not _seccomp():
            problem = "seccomp filter refused by the kernel"
        if problem is not None:  # never run student code half-confined
            with contextlib.suppress(OSError):
                if conn is not None:
                    conn.send_bytes(json.dumps({"kind": "refused", "reason": problem[:300]}).encode())
                else:
                    send({"kind": "refused", "reason": problem[:300]})
            os._exit(70)
        isolation = FULL_ISOLATION
        os.chdir(job["workdir"])
        _set_environment(job["workdir"], tmp="/tmp")
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
        guard_paths = {"scratch": job["workdir"], "readable": readable, "hide": ()}  # nothing of the host's
    else:
        output = _CappedOutput()
        sys.stdout = sys.stderr = output
        record, send = _conn_reporter(conn, output)
        guard_paths = {"scratch": job["scratch"], "readable": readable, "hide": job["hide"]}
    conn = job = None  # the notebook can read this frame: nothing of the grader's stays in it
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.displayhook.compute_format_data = lambda result: ({}, {})  # no repr of the last value
    shell.display_pub.publish = lambda *args, **kwargs: None
    shell.user_ns["grader"] = _NoGrader()  # otter's cells are not run; stray calls do nothing
    sys.path[:] = [p for p in sys.path if p == "" or os.path.realpath(p).startswith(readable)]
    sys.path_importer_cache.clear()
    _install_guard(guard_paths, record, os.getcwd(), allow_ctypes=isolation == FULL_ISOLATION)
    _run_cells(shell, cells, variables, send, (sys.stdout, sys.stderr))
    os._exit(0)  # nothing the notebook left running outlives its report


def _run_cells(shell, cells: list, variables: list, send, streams, _exit=os._exit,
               LOST_CHANNEL_STATUS=LOST_CHANNEL_STATUS, MAX_REPORT_BYTES=MAX_REPORT_BYTES, len=len) -> None:
    """Run the cells in turn; after each, send its error and answers (``send`` and ``_report`` bound
    before any student code runs, so that replacing them in the module changes nothing here)."""
    import builtins

    report, describe, dumps = _report, _describe, json.dumps
    send({"kind": "ready"})
    ours = dict(builtins.__dict__)  # the builtins our reporting code relies on
    for index, source in enumerate(cells):
        error = None
        try:
            result = shell.run_cell(source, store_history=False)
            problem = result.error_before_exec or result.error_in_exec
            if problem is not None:
                error = describe(problem)
        except BaseException as exc:  # noqa: BLE001 - e.g. an interrupt outside the cell's own code
            error = describe(exc)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # an interrupt waits for the report
        theirs = dict(builtins.__dict__)  # a cell may have replaced type, isinstance, int...
        builtins.__dict__.update(ours)
        try:
            for stream in streams:
                with contextlib.suppress(Exception):
                    stream.flush()  # what the cell printed reaches the monitor before its report
            try:
                answers = report(shell.user_ns, variables)
                header = {"kind": "cell", "index": index, "error": error}
                if len(answers) > MAX_REPORT_BYTES:  # the grader keeps the answers reported before
                    header, answers = {**header, "too_large": True}, b"null"
                send(header, answers)
            except OSError:  # the report channel is gone (the notebook closed it): nothing more can be said
                _exit(LOST_CHANNEL_STATUS)
        finally:
            builtins.__dict__.clear()
            builtins.__dict__.update(theirs)
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            except KeyboardInterrupt:  # it came too late for the cell it was meant for
                pass
    with contextlib.suppress(OSError):
        send({"kind": "done"})


def _set_environment(home: str, tmp: str | None = None) -> None:
    """Replace the whole environment by :data:`ENVIRONMENT` plus the working folder as home."""
    os.environ.clear()
    os.environ.update({**ENVIRONMENT, "HOME": home, "TMPDIR": tmp or home, "MPLCONFIGDIR": home})


def _forget_job() -> None:
    """Drop the references multiprocessing keeps to the job and the report pipe
    (``current_process()._args``...), so that student code cannot find them there."""
    import multiprocessing

    process = multiprocessing.current_process()
    for name, empty in (("_args", ()), ("_kwargs", {}), ("_target", None)):
        with contextlib.suppress(AttributeError):
            setattr(process, name, empty)
    with contextlib.suppress(AttributeError):
        process._config.pop("authkey", None)


def _report(namespace: dict, variables: list) -> bytes:
    """One cell's answers, encoded: they can only come from the notebook's own namespace, so a
    notebook can always report whatever answers it likes (what it cannot forge is measured outside)."""
    answers = {}
    for name in variables:
        if name in namespace:
            try:
                answers[name] = encode(namespace[name])
            except BaseException as exc:  # noqa: BLE001
                answers[name] = {"t": "unsupported", "type": f"unreadable ({_describe(exc)})"[:200]}
    return json.dumps(answers).encode()


def _monitor(child: int, conn, output_fd: int, answers_fd: int, blocked_fd: int, cells: int) -> None:
    """Watch the notebook running in ``child`` and report it to the grader; never runs student code.

    Every pipe is drained as data comes (``selectors``), so that none can fill and block the
    notebook. Printed bytes are counted (up to :data:`OUTPUT_COUNT_CAP`) and discarded; each
    refused action is passed on as it arrives; each answer report is checked (a frame of bounded
    size, a header of kind ``cell`` with the next index, no more reports than cells) and passed on
    with the monitor's own output count. A report channel closed while the notebook still runs, a
    malformed or out-of-order report or one too many is *tampering*: it is recorded, and from then
    on nothing more from that channel is believed. When the child ends, its exit status and the
    time it ran are sent as ``{"kind": "end"}``, and this process exits.
    """
    import selectors
    import struct
    import time

    start = time.monotonic()
    selector = selectors.DefaultSelector()
    names = {output_fd: "printed-output", answers_fd: "answer-report", blocked_fd: "refused-action"}
    for fd in names:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    try:
        pidfd = os.pidfd_open(child)
        selector.register(pidfd, selectors.EVENT_READ)
    except (AttributeError, OSError):
        pidfd = None
    state = {"output": 0, "expected": 0, "ready": False, "done": False, "blocked": 0, "status": None}
    buffers = {answers_fd: bytearray(), blocked_fd: bytearray()}
    tampering: list[str] = []
    distrusted: set[int] = set()
    frame_size = struct.calcsize(_FRAME)

    def send(message: dict, raw: bytes | None = None) -> None:
        with contextlib.suppress(OSError):
            conn.send_bytes(json.dumps(message).encode())
            if raw is not None:
                conn.send_bytes(raw)

    def tamper(fd: int, what: str) -> None:
        if fd not in distrusted:
            distrusted.add(fd)
            tampering.append(what[:200])
            buffers.get(fd, bytearray()).clear()

    def drain(fd: int) -> bool:
        """Read what ``fd`` holds now; False at end of file."""
        while True:
            try:
                chunk = os.read(fd, 2**16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            if fd == output_fd:
                state["output"] = min(state["output"] + len(chunk), OUTPUT_COUNT_CAP)
            elif fd not in distrusted:
                buffers[fd] += chunk
                if fd == blocked_fd:
                    refused_actions()
                else:
                    reports()

    def refused_actions() -> None:
        buffer = buffers[blocked_fd]
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end]).decode("utf-8", "replace")
            del buffer[:end + 1]
            state["blocked"] += 1
            if state["blocked"] <= BLOCKED_PER_CELL:
                send({"kind": "blocked", "what": line[:200]})
        if len(buffer) > 2000:
            tamper(blocked_fd, "a malformed refused-action record")

    def reports() -> None:
        buffer = buffers[answers_fd]
        while len(buffer) >= frame_size and answers_fd not in distrusted:
            head, size = struct.unpack_from(_FRAME, buffer)
            if head > MAX_HEADER_BYTES or size > MAX_REPORT_BYTES:
                tamper(answers_fd, "a malformed report (too large)")
                return
            if len(buffer) < frame_size + head + size:
                return
            try:
                header = json.loads(bytes(buffer[frame_size:frame_size + head]))
            except ValueError:
                header = None
            raw = bytes(buffer[frame_size + head:frame_size + head + size])
            del buffer[:frame_size + head + size]
            handle(header if type(header) is dict else {}, raw)

    def handle(header: dict, raw: bytes) -> None:
        kind = header.get("kind")
        if not state["ready"]:
            state["ready"] = True
            if kind == "ready":
                send({"kind": "ready", "isolation": FULL_ISOLATION})
            else:
                send({"kind": "refused", "reason": str(header.get("reason", "a malformed first report"))[:300]})
            return
        if state["done"]:
            tamper(answers_fd, "a report after the last one")
        elif kind == "done":
            state["done"] = True
            if state["expected"] != cells:
                tamper(answers_fd, f"the notebook said it was done after {state['expected']} of {cells} cells")
        elif kind != "cell" or type(header.get("index")) is not int:
            tamper(answers_fd, "a malformed report")
        elif header["index"] >= cells:
            tamper(answers_fd, f"more reports than cells ({header['index'] + 1} for {cells})")
        elif header["index"] != state["expected"]:
            tamper(answers_fd, f"an out-of-order report (cell {header['index'] + 1} when cell "
                               f"{state['expected'] + 1} was due)")
        else:
            for fd in (output_fd, blocked_fd):  # what the cell printed or tried was written before its report
                if fd in names:
                    drain(fd)
            error = header.get("error")
            state["expected"] += 1
            send({"kind": "cell", "index": header["index"], "error": error if type(error) is str else None,
                  "too_large": header.get("too_large") is True,
                  "output": state["output"], "blocked": [], "tampering": tampering,
                  "seconds": round(time.monotonic() - start, 3)}, raw)
            state["blocked"] = 0

    def exited(wait: float = 0.0) -> bool:
        """Whether the child has ended (waiting up to ``wait`` seconds); its status is kept."""
        deadline = time.monotonic() + wait
        while True:
            if state["status"] is not None:
                return True
            try:
                pid, status = os.waitpid(child, os.WNOHANG)
            except ChildProcessError:
                state["status"] = -1
                return True
            if pid:
                state["status"] = os.waitstatus_to_exitcode(status)
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    while not exited():
        for key, _ in selector.select(None if pidfd is not None else 0.05):
            fd = key.fd
            if fd == pidfd:
                exited(1.0)
                continue
            if not drain(fd):
                selector.unregister(fd)
                name = names.pop(fd)
                if not exited(0.25) and not (fd == answers_fd and state["done"]):
                    tamper(fd, f"the {name} channel was closed while the notebook ran")
    for fd in list(names):
        drain(fd)
    if state["status"] == LOST_CHANNEL_STATUS and not state["done"]:
        tamper(-1, f"the report channel was gone when cell {state['expected'] + 1} came to report")
    send({"kind": "end", "status": state["status"], "seconds": round(time.monotonic() - start, 3),
          "output": state["output"], "tampering": tampering, "cells": state["expected"]})
    os._exit(0)


class _NoGrader:
    """Stands in for ``otter.Notebook`` in the sandbox: every method does nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


import builtins as _builtins

_mro = type.__dict__["__mro__"].__get__
#: Python's own exception classes and their names, taken before any student code runs.
_EXCEPTIONS = tuple((value, name) for name, value in vars(_builtins).items()
                    if _exact_type(value) is type and issubclass(value, BaseException))


def _exception_name(kind) -> str:
    """A built-in exception's name, or "a subclass of X" (an exception class's own name is never asked)."""
    for known, name in _EXCEPTIONS:
        if kind is known:
            return name
    try:
        for base in _mro(kind):
            for known, name in _EXCEPTIONS:
                if base is known:
                    return f"an exception defined in the notebook (a subclass of {name})"
    except Exception:  # noqa: BLE001
        pass
    return _type_name(kind)


def _describe(exc: BaseException) -> str:
    """``TypeName: message`` of an exception, short, never trusting its ``__str__`` or its class's name."""
    name = _exception_name(_exact_type(exc))
    try:
        text = BaseException.__str__(exc)
    except Exception:  # noqa: BLE001
        text = ""
    return f"{name}: {text}"[:300] if text else name


def _limit_resources() -> None:
    """Cap memory, file sizes and core dumps of the sandbox process."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
    limits = [(resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT), (resource.RLIMIT_CORE, 0)]
    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
        limits.append((resource.RLIMIT_AS, used + MEMORY_LIMIT))
    except OSError:
        pass
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


_SYSCALLS = {  # syscall numbers: (x86_64, aarch64)
    "kill": (62, 129), "tkill": (200, 130), "tgkill": (234, 131), "ptrace": (101, 117),
    "rt_sigqueueinfo": (129, 138), "rt_tgsigqueueinfo": (297, 240),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "pidfd_open": (434, 434),
    "pidfd_send_signal": (424, 424), "pidfd_getfd": (438, 438), "execve": (59, 221), "execveat": (322, 281),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "unshare": (272, 97), "setns": (308, 268), "open_by_handle_at": (304, 265), "kcmp": (312, 272),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282), "keyctl": (250, 219),
    "add_key": (248, 217), "request_key": (249, 218),
    "prlimit64": (302, 261), "setrlimit": (160, 164), "setpriority": (141, 140), "ioprio_set": (251, 30),
    "sched_setaffinity": (203, 122), "sched_setscheduler": (144, 119), "sched_setparam": (142, 118),
    "sched_setattr": (314, 274), "migrate_pages": (256, 238), "move_pages": (279, 239),
    "setsid": (112, 157), "setpgid": (109, 154), "setuid": (105, 146), "setgid": (106, 144),
    "setreuid": (113, 145), "setregid": (114, 143), "setresuid": (117, 147), "setresgid": (119, 149),
    "setfsuid": (122, 151), "setfsgid": (123, 152), "setgroups": (116, 159), "capset": (126, 91),
    "clone": (56, 220), "clone3": (435, 435), "seccomp": (317, 277), "personality": (135, 92),
    "acct": (163, 89), "swapon": (167, 224), "reboot": (169, 142), "init_module": (175, 105),
    "finit_module": (313, 273), "delete_module": (176, 106), "kexec_load": (246, 104),
    "iopl": (172, None), "ioperm": (173, None), "quotactl": (179, 60), "lookup_dcookie": (212, 18),
    "fanotify_init": (300, 262), "name_to_handle_at": (303, 264), "syslog": (103, 116),
    # io_uring runs system calls the filter never sees; the new mount API; other processes' memory
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "open_tree": (428, 428), "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431),
    "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442), "quotactl_fd": (443, 443),
    "process_madvise": (440, 440), "process_mrelease": (448, 448),
    # the machine's clock, names and swap, and loading kernels: never a notebook's business
    "settimeofday": (164, 170), "clock_settime": (227, 112), "adjtimex": (159, 171), "clock_adjtime": (305, 266),
    "sethostname": (170, 161), "setdomainname": (171, 162), "swapoff": (168, 225), "kexec_file_load": (320, 294),
    "uselib": (134, None),
}
#: What must always be refused (checked by the tests): every call that reaches another process,
#: changes limits, priorities or identities, or could leave the sandbox.
MUST_REFUSE = ("pidfd_open", "pidfd_send_signal", "pidfd_getfd", "process_vm_readv", "process_vm_writev",
               "process_madvise", "ptrace", "kcmp", "perf_event_open", "bpf", "userfaultfd", "io_uring_setup",
               "io_uring_enter", "io_uring_register", "setns", "unshare", "mount", "umount2", "pivot_root", "chroot",
               "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
               "open_by_handle_at", "setpriority", "sched_setaffinity", "sched_setscheduler", "sched_setparam",
               "sched_setattr", "ioprio_set", "quotactl", "quotactl_fd", "prlimit64", "setrlimit", "migrate_pages",
               "move_pages", "setuid", "setresuid", "setgid", "setresgid", "setgroups", "capset", "execve", "execveat")
_ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}


def _confine(job: dict, conn) -> tuple[str | None, tuple[int, int] | None]:
    """Move this process into a file system that holds only what a notebook needs; fork the notebook's process.

    Returns ``(None, (answers fd, refused-actions fd))`` in the notebook's process once done, else
    ``(why not, None)``; the process that forks becomes the monitor (:func:`_monitor`) and never returns.

    In new user, mount, PID and network namespaces, a fresh root is assembled from read-only
    bind mounts of the system folders (``/usr``, ``/lib``...), Python's installation, the
    ``coursepack`` package and ``data/``, plus an in-memory working folder of :data:`DISK_QUOTA`
    bytes at ``job["workdir"]`` holding a copy of the submission; the old root is detached, so the
    repository, the hidden tests, the other submissions and the output folder are simply not there,
    and ``/proc`` and the network are absent. A second user namespace then locks those mounts. The
    notebook runs as the unprivileged :data:`SANDBOX_UID` with no capabilities, in a process that is
    PID 1 of its own PID namespace (forked here): when it ends, everything it started ends too; the
    process that forked it monitors it (:func:`_monitor`), passes on interrupts and exits.

    A uid of its own: when the grader is root, a helper left outside the namespace
    (:func:`_map_helper`) maps namespace uid 0 to root only while mounts are made and
    :data:`SANDBOX_UID` to the host's :data:`SANDBOX_HOST_UID` (gid alike); the process then switches
    to :data:`SANDBOX_UID` (``setresuid``/``setresgid``, no supplementary groups) before the second
    user namespace, so the host sees the monitor and the notebook as that unprivileged uid, never
    the grader's. An unprivileged grader does the same with its subordinate ids through
    ``newuidmap``/``newgidmap`` where ``/etc/subuid`` and ``/etc/subgid`` give it some; elsewhere
    the sandbox keeps the grader's own uid on the host (the limit of an unprivileged user namespace:
    the user may map only itself), and grading goes on.

    Readable paths may lie anywhere, ``/tmp`` included (a repository cloned under ``/tmp``).
    Where user namespaces are unavailable, returns the reason having changed nothing; a failure
    after that point is returned too, and the caller must then run no student code.
    """
    import ctypes
    import platform
    import resource

    libc = ctypes.CDLL(None, use_errno=True)
    newns, newuser, newpid, newnet = 0x00020000, 0x10000000, 0x20000000, 0x40000000
    rdonly, nosuid, nodev, remount, bind, rec, private = 1, 2, 4, 32, 4096, 16384, 1 << 18
    uid, gid = os.getuid(), os.getgid()
    if platform.machine() not in _ARCHES:
        return f"no seccomp support written for {platform.machine()}", None
    ids = _host_ids(uid, gid, job["readable"])
    helper = _map_helper(os.getpid(), uid, gid, ids) if ids is not None else None
    if libc.unshare(newns | newuser | newpid | newnet) != 0:
        problem = f"user namespaces unavailable ({os.strerror(ctypes.get_errno())})"
        if helper is not None:
            os.close(helper[0])  # the helper reads nothing and ends
            os.close(helper[1])
            os.waitpid(helper[2], 0)
        return problem, None

    def check(status: int, what: str) -> None:
        if status != 0:
            raise OSError(ctypes.get_errno(), what)

    def mount(source, target: str, fstype=None, flags=0, options=None) -> None:
        check(libc.mount(source.encode() if source else None, target.encode(),
                         fstype.encode() if fstype else None, flags, options.encode() if options else None),
              f"mount {target}")

    def write_maps(proc: int, outer_uid: int, outer_gid: int) -> None:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{SANDBOX_UID} {outer_uid} 1"),
                           ("gid_map", f"{SANDBOX_GID} {outer_gid} 1")):
            handle = os.open(name, os.O_WRONLY, dir_fd=proc)
            try:
                os.write(handle, text.encode())
            finally:
                os.close(handle)

    try:
        proc = os.open("/proc/self", os.O_RDONLY | os.O_DIRECTORY)  # this process's entry, kept past the pivot
        if helper is not None:
            go, done, pid = helper
            os.write(go, b"1")
            mapped = os.read(done, 1) == b"1"
            os.close(go)
            os.close(done)
            os.waitpid(pid, 0)
            if not mapped:
                ids = None  # the maps are unwritten: the grader's own uid, as without subordinate ids
        if ids is None:
            write_maps(proc, uid, gid)
        mount(None, "/", flags=rec | private)
        scratch = os.open(job["scratch"], os.O_RDONLY | os.O_DIRECTORY)  # opened in this namespace
        # Open what must stay readable before the tmpfs hides /tmp: the repository may live under /tmp.
        readable = {path: os.open(path, os.O_PATH) for path in sorted({os.path.realpath(p) for p in job["readable"]})
                    if os.path.exists(path)}
        mount("tmpfs", "/tmp", "tmpfs", nosuid | nodev, "size=1m")
        root = "/tmp/root"
        os.mkdir(root)
        mount("tmpfs", root, "tmpfs", nosuid | nodev, "size=64m,mode=755")
        bound: list[str] = []

        def bind_into_root(path: str, read_only: bool = True, source: str | None = None) -> None:
            source = source or path
            target = root + path
            if os.path.isdir(source):
                os.makedirs(target, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                open(target, "w").close()
            mount(source, target, flags=bind | rec)
            if read_only:
                mount(None, target, flags=remount | bind | rdonly | nosuid | nodev)
            bound.append(path)

        for path in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
            if os.path.islink(path):
                os.symlink(os.readlink(path), root + path)
            elif os.path.isdir(path):
                bind_into_root(path)
        for path, handle in readable.items():
            if not any(path == b or path.startswith(b + "/") for b in bound):
                bind_into_root(path, source=f"/proc/self/fd/{handle}")
            os.close(handle)
        for device in ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"):
            bind_into_root(device, read_only=False)
        os.makedirs(root + "/tmp", exist_ok=True)  # it may already hold readable paths that lie under /tmp
        os.chmod(root + "/tmp", 0o1777)
        workdir = root + job["workdir"]
        os.makedirs(workdir, exist_ok=True)
        mount("tmpfs", workdir, "tmpfs", nosuid | nodev,
              f"size={DISK_QUOTA},mode=700,uid={SANDBOX_UID},gid={SANDBOX_GID}")
        for name in os.listdir(scratch):  # the submission's copy: into the quota'd folder, read-only outside
            source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=scratch)
            try:
                with open(os.path.join(workdir, name), "wb") as target:
                    while chunk := os.read(source, 2**20):
                        target.write(chunk)
                    os.fchown(target.fileno(), SANDBOX_UID, SANDBOX_GID)
            finally:
                os.close(source)
        os.close(scratch)
        os.mkdir(root + "/.old")
        check(libc.syscall(_SYSCALLS["pivot_root"][_ARCHES[platform.machine()][0]],
                           root.encode(), (root + "/.old").encode()), "pivot_root")
        os.chdir("/")
        check(libc.umount2(b"/.old", 2), "detach the old root")  # MNT_DETACH
        os.rmdir("/.old")
        if ids is not None:
            _switch_to_sandbox_user(libc, bound, job["workdir"])
        check(libc.unshare(newns | newuser), "lock the mounts")
        write_maps(proc, SANDBOX_UID, SANDBOX_GID)
        os.close(proc)
        if ids is not None:
            libc.prctl(4, 0, 0, 0, 0)  # not dumpable again: nothing may trace it
        resource.setrlimit(resource.RLIMIT_NPROC, (THREAD_LIMIT, THREAD_LIMIT))  # counted in this namespace only
        _drop_capabilities(libc)
    except OSError as err:
        return (f"{err.strerror or err} ({err.filename or err.args[-1]})" if err.strerror else str(err)), None
    return _become_pid_one(libc, conn, len(job["cells"]), job["parent"])


def _host_ids(uid: int, gid: int, readable) -> tuple[int, int, tuple[str, str] | None] | None:
    """``(host uid, host gid, (newuidmap, newgidmap) or None)`` a sandbox runs as, or None for the grader's own.

    A root grader maps the sandbox to :data:`SANDBOX_HOST_UID`/:data:`SANDBOX_HOST_GID` itself; an
    unprivileged one uses its first subordinate ids (``/etc/subuid``, ``/etc/subgid``) through the
    set-uid helpers ``newuidmap``/``newgidmap``. Without those (or where the folders a notebook
    must read are not readable by others), the sandbox keeps the grader's own uid on the host, as
    seen from outside its namespaces: still without capabilities, in its own user namespace, with
    nothing of the host's visible, but a process of the grader's user to the host.
    """
    for path in readable:
        with contextlib.suppress(OSError):
            mode = os.stat(path).st_mode
            if mode & (0o005 if os.path.isdir(path) else 0o004) != (0o005 if os.path.isdir(path) else 0o004):
                return None
    if uid == 0:
        return SANDBOX_HOST_UID, SANDBOX_HOST_GID, None
    import pwd
    import shutil

    tools = tuple(shutil.which(t, path="/usr/bin:/bin:/usr/sbin:/sbin") for t in ("newuidmap", "newgidmap"))
    if None in tools:
        return None
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    found = []
    for table in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(table, encoding="utf-8") as handle:
                rows = [line.strip().split(":") for line in handle]
        except OSError:
            return None
        starts = [int(r[1]) for r in rows if len(r) == 3 and r[0] in (name, str(uid)) and r[1].isdigit()
                  and r[2].isdigit() and int(r[2]) >= 1]
        if not starts:
            return None
        found.append(starts[0])
    return found[0], found[1], tools


def _map_helper(target: int, uid: int, gid: int, ids: tuple) -> tuple[int, int, int]:
    """Fork a process that stays outside the new user namespace and, once told (a byte on the
    returned pipe), writes ``target``'s uid and gid maps: namespace 0 is the grader's own id, only
    for setting up, and :data:`SANDBOX_UID` the sandbox's own host id. Returns ``(go, done, pid)``."""
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    helper = os.fork()
    if helper:
        os.close(go_r)
        os.close(done_w)
        return go_w, done_r, helper
    ok = b"0"
    try:
        os.close(go_w)
        os.close(done_r)
        if os.read(go_r, 1) == b"1":
            host_uid, host_gid, tools = ids
            maps = (("uid_map", (0, uid, 1, SANDBOX_UID, host_uid, 1)), ("gid_map", (0, gid, 1, SANDBOX_GID, host_gid, 1)))
            if tools is None:  # root: it may write any map
                for name, numbers in maps:
                    handle = os.open(f"/proc/{target}/{name}", os.O_WRONLY)
                    try:
                        os.write(handle, "0 {} {}\n{} {} {}\n".format(*numbers[1:]).encode())
                    finally:
                        os.close(handle)
                ok = b"1"
            else:
                done = []
                for tool, (_, numbers) in zip(tools, maps):
                    child = os.fork()
                    if child == 0:
                        try:
                            os.execv(tool, [tool, str(target), *map(str, numbers)])
                        finally:
                            os._exit(127)
                    done.append(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0)
                ok = b"1" if all(done) else b"0"
    except BaseException:  # noqa: BLE001 - the sandbox is told, and falls back or refuses
        ok = b"0"
    finally:
        with contextlib.suppress(OSError):
            os.write(done_w, ok)
        os._exit(0)


def _switch_to_sandbox_user(libc, paths: list[str], workdir: str) -> None:
    """Become :data:`SANDBOX_UID`/:data:`SANDBOX_GID` with no supplementary groups (so, on the host,
    the sandbox's own ids), then check that what a notebook needs is still readable and writable."""
    import ctypes

    os.setgroups([])
    os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    if libc.prctl(4, 1, 0, 0, 0) != 0:  # PR_SET_DUMPABLE: its /proc entry stays its own, for the next maps
        raise OSError(ctypes.get_errno(), "keep the process's own /proc entry")
    for path in paths:
        if not os.access(path, os.R_OK | (os.X_OK if os.path.isdir(path) else 0)):
            raise OSError(13, f"{path} is not readable by the sandbox's uid")
    if not os.access(workdir, os.R_OK | os.W_OK | os.X_OK):
        raise OSError(13, f"{workdir} is not writable by the sandbox's uid")


def _drop_capabilities(libc) -> None:
    """No capabilities left, in any set (``capset`` with version 3 and all zero)."""
    import ctypes

    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "drop capabilities")


def _die_with_parent(parent: int) -> None:
    """Be killed when ``parent`` (the fork server, which ends with the grader) ends; exit now if it already has.

    The kernel forgets this request whenever a process's ids or capabilities change, so the monitor
    makes it again once confined.
    """
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(72)


def _become_pid_one(libc, conn, cells: int, parent: int) -> tuple[str | None, tuple[int, int] | None]:
    """Fork: the child, PID 1 of the new PID namespace, goes on to run the notebook; this process
    becomes its monitor (:func:`_monitor`), the only one holding the connection to the grader.

    The child gets fds 1 and 2 on a pipe the monitor counts and discards, one pipe for its answer
    reports and one for refused actions; every other descriptor it inherited, the grader's
    connection included, is closed.
    """
    import resource

    pipes = [os.pipe() for _ in range(3)]  # printed output, answer reports, refused actions
    try:
        child = os.fork()
    except OSError as err:
        return f"could not start the namespace's first process ({err.strerror})", None
    (output_r, output_w), (answers_r, answers_w), (blocked_r, blocked_w) = pipes
    if child == 0:
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: if the monitor is killed, so is this
        conn.close()
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        keep = sorted((answers_w, blocked_w))
        top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        top = top if 0 < top < 2**20 else 2**16
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, top)
        return None, (answers_w, blocked_w)
    for fd in (output_w, answers_w, blocked_w):
        os.close(fd)
    _die_with_parent(parent)  # if the grader dies, so do the monitor and (through its own request) the notebook

    def forward(signum, frame):
        with contextlib.suppress(OSError):
            os.kill(child, signum)

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, forward)
    try:
        _monitor(child, conn, output_r, answers_r, blocked_r, cells)
    finally:
        os._exit(71)


def _seccomp() -> bool:
    """Refuse, at the kernel, the system calls a notebook never needs and a sandbox escape would.

    Signals may only go to this process itself (``kill``/``tgkill``; ``tkill``, queued signals and
    pidfds are refused); resource limits may be read, never set (``prlimit64`` only with no new
    limit); priorities, CPU affinity and scheduling, other processes' memory, ptrace, process
    groups and sessions, user and group ids, capabilities, running programs, mounts, namespaces
    (``clone`` with a namespace flag; ``clone3``, whose flags a filter cannot read, answers
    ENOSYS so that threads fall back to ``clone``), keys, modules and more are refused with EPERM.
    So are io_uring (whose queued operations the filter would never see), the new mount API
    (``fsopen``, ``open_tree``, ``move_mount``...), ``process_madvise``, ``quotactl_fd``, the clock,
    host and domain names. Inherited by any child.

    It is a denylist (:data:`_SYSCALLS`, with :data:`MUST_REFUSE` checked by the tests), not an
    allowlist: what NumPy, pandas, Altair and IPython call differs between library versions, kernels
    and C libraries, and an allowlist that misses one call breaks honest notebooks in ways no
    grading test here can show in advance. The denylist is not the boundary alone: the namespaces
    (nothing else visible), no capabilities and the unprivileged uid stand behind it. Calls that
    act only on the caller (``set_mempolicy``, ``mbind``, Landlock) are left alone.
    """
    import ctypes
    import platform

    column, arch = _ARCHES[platform.machine()]
    own_pid = os.getpid()
    ld_w_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, deny, nosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38  # ALLOW, ERRNO|EPERM, ERRNO|ENOSYS
    namespaces = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
    program = [(ld_w_abs, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, deny), (ld_w_abs, 0, 0, 0),
               (jge, 0, 1, 0x40000000), (ret, 0, 0, deny)]  # wrong ABI, x32 calls: refused
    for name, numbers in _SYSCALLS.items():
        number = numbers[column]
        if number is None:
            continue
        if name in ("kill", "tgkill"):  # allowed only with args[0] == own pid
            program += [(jeq, 0, 4, number), (ld_w_abs, 0, 0, 16), (jeq, 0, 1, own_pid), (ret, 0, 0, allow),
                        (ret, 0, 0, deny)]
        elif name == "prlimit64":  # allowed only with new_limit (args[2]) NULL: reading a limit
            program += [(jeq, 0, 6, number), (ld_w_abs, 0, 0, 32), (jeq, 0, 3, 0), (ld_w_abs, 0, 0, 36),
                        (jeq, 0, 1, 0), (ret, 0, 0, allow), (ret, 0, 0, deny)]
        elif name == "clone":  # threads and forks, never new namespaces
            program += [(jeq, 0, 4, number), (ld_w_abs, 0, 0, 16), (jset, 1, 0, namespaces), (ret, 0, 0, allow),
                        (ret, 0, 0, deny)]
        elif name == "clone3":
            program += [(jeq, 0, 1, number), (ret, 0, 0, nosys)]
        else:
            program += [(jeq, 0, 1, number), (ret, 0, 0, deny)]
    program.append((ret, 0, 0, allow))

    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(program))(*[Filter(*instruction) for instruction in program])
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    return libc.prctl(22, 2, ctypes.byref(Program(len(program), filters)), 0, 0) == 0  # SECCOMP_MODE_FILTER


def _install_guard(job: dict, record, workdir: str, allow_ctypes: bool = False) -> None:
    """An audit hook that refuses what submissions never need (PEP 578; defence in depth).

    Reading is allowed in the working folder, Python's installation and libraries, the
    ``coursepack`` package and ``data/``; writing only in the working folder. Starting processes,
    sending signals, sockets, ctypes, adding audit hooks, raising resource limits and reading
    other processes' ``/proc`` entries are refused. A refused action raises PermissionError in
    the student's cell; it is recorded (``record``) before that, which under full confinement
    writes it to the monitor at once, so that a notebook cannot take an attempt back. ``ctypes`` (which some libraries use when
    imported) is allowed only inside namespaces with seccomp, where it cannot reach anything more.
    """
    realpath, isdir, fspath = os.path.realpath, os.path.isdir, os.fspath
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    own = tuple(realpath(p) for p in {workdir, job["scratch"]})
    readable = own + tuple(realpath(p) for p in job["readable"]) + (f"/proc/{os.getpid()}", "/dev/null", "/dev/urandom")
    hidden = tuple(realpath(p) for p in job["hide"])
    denied_prefixes = ("subprocess.", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty", "os.system",
                       "os.kill", "os.killpg", "signal.pthread_kill", "os.setsid", "ctypes.", "socket.",
                       "resource.setrlimit", "resource.prlimit", "sys.addaudithook", "gc.get_referrers",
                       "gc.get_objects", "gc.get_referents", "os.symlink", "os.link", "os.chroot",
                       "sqlite3.", "dbm.", "webbrowser.", "urllib.", "pty.")
    if allow_ctypes:
        denied_prefixes = tuple(p for p in denied_prefixes if p != "ctypes.")
    path_events = {"os.listdir", "os.scandir", "os.chdir", "os.remove", "os.rmdir", "os.mkdir", "os.rename",
                   "os.truncate", "os.chmod", "os.chown", "os.utime", "shutil.rmtree", "shutil.copyfile",
                   "shutil.copytree", "shutil.move", "shutil.copymode", "shutil.copystat", "shutil.chown"}
    writing_events = path_events - {"os.listdir", "os.scandir", "os.chdir"}

    # Builtins are bound now, as defaults, so that a cell replacing them cannot change the guard.
    def inside(path: str, roots: tuple, any=any) -> bool:
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)

    def allowed(path, write: bool, type=type, bytes=bytes) -> bool:
        if type(path) is int:  # an already open file descriptor
            return True
        path = realpath(path.decode(errors="replace") if type(path) is bytes else fspath(path))
        if inside(path, own) or path == "/dev/null":
            return True
        if write or inside(path, hidden):
            return False
        return inside(path, readable)

    def refuse(event: str, detail, str=str, PermissionError=PermissionError) -> None:
        record(f"{event} {str(detail)[:120]}")
        raise PermissionError(f"blocked by the grader's sandbox: {event}")

    def guard(event: str, args: tuple, type=type, any=any, bool=bool, str=str, hasattr=hasattr,
              enumerate=enumerate) -> None:
        if event == "open":
            path, mode, flags = args
            write = bool(flags & write_flags) if type(flags) is int else any(c in str(mode) for c in "wax+")
            if path is None or type(path) is int:
                return
            if not allowed(path, write) or (mode is None and not write and isdir(path) and not inside(realpath(fspath(path)), own)):
                refuse(event, path)
        elif event.startswith(denied_prefixes):
            refuse(event, args[:1])
        elif event in path_events:
            targets = [a for a in args if type(a) in (str, bytes) or hasattr(a, "__fspath__")]
            if any(type(a) is int for a in args[:1]):
                refuse(event, args[:1])
            for i, target in enumerate(targets):
                write = event in writing_events and not (event.startswith("shutil.copy") and i == 0)
                if not allowed(target, write):
                    refuse(event, target)
        elif event == "object.__setattr__" and args and (args[0] is guard or args[0] is record or args[0] is refuse):
            refuse(event, "guard")

    sys.addaudithook(guard)
