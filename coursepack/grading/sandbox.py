"""The sandbox: a process forked from the fork server confines itself, runs a notebook's cells, reports answers.

It is kept apart from the grader, which never runs student code, so that everything that runs next to student
code (and all that the fork server preloads) is in one module.
"""
from __future__ import annotations

import json
import os
import signal
import sys

from coursepack.grading.answers import _exact_type, _type_name, encode

MEMORY_LIMIT = 4 * 2**30  #: address space a sandbox may add to what the fork server uses
FILE_SIZE_LIMIT = 64 * 2**20  #: largest file a sandbox may write in its scratch folder
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


class _CappedOutput:
    """Stands in for sys.stdout/sys.stderr: counts what is printed and keeps none of it."""

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


def _sandbox_main(conn, job: dict) -> None:
    """Entry point of the sandbox process: set up confinement, run the cells, report after each.

    Every report is one JSON message: ``{"kind": "cell", "index", "error", "output", "blocked",
    "answers"}``; the first says which confinement is in force and the last is ``{"kind": "done"}``.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()  # its own process group, so that the grader can end it and anything it started
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    output = _CappedOutput()
    sys.stdout = sys.stderr = output
    os.environ.update({"TMPDIR": job["scratch"], "HOME": job["scratch"], "MPLCONFIGDIR": job["scratch"]})
    os.chdir(job["scratch"])
    _limit_resources()
    isolation = "audit hook only"
    if job["confine"] and _confine(job):
        isolation = "namespaces+seccomp" if _seccomp() else "namespaces"
        os.chdir(job["workdir"])
        os.environ.update({"TMPDIR": "/tmp", "HOME": job["workdir"], "MPLCONFIGDIR": job["workdir"]})
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.displayhook.compute_format_data = lambda result: ({}, {})  # no repr of the last value
    shell.display_pub.publish = lambda *args, **kwargs: None
    shell.user_ns["grader"] = _NoGrader()  # otter's cells are not run; stray calls do nothing
    readable = tuple(os.path.realpath(p) for p in job["readable"])
    sys.path[:] = [p for p in sys.path if p == "" or os.path.realpath(p).startswith(readable)]
    sys.path_importer_cache.clear()
    blocked: list[str] = []
    _install_guard(job, blocked, os.getcwd(), allow_ctypes=isolation == "namespaces+seccomp")
    send = conn.send_bytes
    send(json.dumps({"kind": "ready", "isolation": isolation}).encode())
    import builtins

    ours = dict(builtins.__dict__)  # the builtins our reporting code relies on
    for index, source in enumerate(job["cells"]):
        error = None
        try:
            result = shell.run_cell(source, store_history=False)
            problem = result.error_before_exec or result.error_in_exec
            if problem is not None:
                error = _describe(problem)
        except BaseException as exc:  # noqa: BLE001 - e.g. an interrupt outside the cell's own code
            error = _describe(exc)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # an interrupt waits for the report
        theirs = dict(builtins.__dict__)  # a cell may have replaced type, isinstance, int...
        builtins.__dict__.update(ours)
        try:
            send(_report(index, error, output.count, blocked, shell.user_ns, job["variables"]))
        finally:
            builtins.__dict__.clear()
            builtins.__dict__.update(theirs)
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            except KeyboardInterrupt:  # it came too late for the cell it was meant for
                pass
        del blocked[:]
    send(b'{"kind": "done"}')


def _report(index: int, error, output: int, blocked: list, namespace: dict, variables: list) -> bytes:
    """One cell's report: its error, printed bytes, refused actions and every answer, encoded."""
    answers = {}
    for name in variables:
        if name in namespace:
            try:
                answers[name] = encode(namespace[name])
            except BaseException as exc:  # noqa: BLE001
                answers[name] = {"t": "unsupported", "type": f"unreadable ({_describe(exc)})"[:200]}
    report = {"kind": "cell", "index": index, "error": error, "output": output, "blocked": blocked[:20],
              "answers": answers}
    return json.dumps(report).encode()


class _NoGrader:
    """Stands in for ``otter.Notebook`` in the sandbox: every method does nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _describe(exc: BaseException) -> str:
    """``TypeName: message`` of an exception, short, never trusting its ``__str__``."""
    name = _type_name(_exact_type(exc)).rsplit(".", 1)[-1]
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
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "pidfd_open": (434, 434),
    "pidfd_send_signal": (424, 424), "pidfd_getfd": (438, 438), "execve": (59, 221), "execveat": (322, 281),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "unshare": (272, 97), "setns": (308, 268), "open_by_handle_at": (304, 265), "kcmp": (312, 272),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282), "keyctl": (250, 219),
}
_ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}


def _confine(job: dict) -> bool:
    """Move this process into a file system that holds only what a notebook needs.

    In new user, mount, PID and network namespaces, a fresh root is assembled from read-only
    bind mounts of the system folders (``/usr``, ``/lib``...), Python's installation, the
    ``coursepack`` package and ``data/``, plus the submission's scratch folder at
    ``job["workdir"]``; the old root is detached, so the repository, the hidden tests, the other
    submissions and the output folder are simply not there, and ``/proc`` and the network are
    absent. A second user namespace then locks those mounts. Processes the code might start land
    in the new PID namespace, where the grader's processes do not exist.

    Returns False, having changed nothing, where user namespaces are unavailable.
    """
    import ctypes
    import platform

    libc = ctypes.CDLL(None, use_errno=True)
    newns, newuser, newpid, newnet = 0x00020000, 0x10000000, 0x20000000, 0x40000000
    rdonly, nosuid, nodev, remount, bind, rec, private = 1, 2, 4, 32, 4096, 16384, 1 << 18
    uid, gid = os.getuid(), os.getgid()
    if platform.machine() not in _ARCHES or libc.unshare(newns | newuser | newpid | newnet) != 0:
        return False

    def check(status: int, what: str) -> None:
        if status != 0:
            raise OSError(ctypes.get_errno(), what)

    def mount(source, target: str, fstype=None, flags=0, options=None) -> None:
        check(libc.mount(source.encode() if source else None, target.encode(),
                         fstype.encode() if fstype else None, flags, options.encode() if options else None),
              f"mount {target}")

    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
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
        os.mkdir(root + "/tmp", 0o1777)
        os.chmod(root + "/tmp", 0o1777)
        os.mkdir(root + job["workdir"])
        mount(f"/proc/self/fd/{scratch}", root + job["workdir"], flags=bind)
        os.close(scratch)
        os.mkdir(root + "/.old")
        check(libc.syscall(_SYSCALLS["pivot_root"][_ARCHES[platform.machine()][0]],
                           root.encode(), (root + "/.old").encode()), "pivot_root")
        os.chdir("/")
        check(libc.umount2(b"/.old", 2), "detach the old root")  # MNT_DETACH
        os.rmdir("/.old")
        check(libc.unshare(newns | newuser), "lock the mounts")
    except OSError:
        os._exit(70)  # half-confined: no grade is better than a leak; the grader reports a crash
    return True


def _seccomp() -> bool:
    """Refuse, at the kernel, the system calls a notebook never needs and a sandbox escape would.

    Signals may only go to this process itself; running programs, tracing or reading other
    processes, pidfds, mounts and namespaces are refused with EPERM. Inherited by any child.
    """
    import ctypes
    import platform

    column, arch = _ARCHES[platform.machine()]
    own_pid = os.getpid()
    ld_w_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    program = [(ld_w_abs, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, deny), (ld_w_abs, 0, 0, 0),
               (jge, 0, 1, 0x40000000), (ret, 0, 0, deny)]  # wrong ABI, x32 calls: refused
    own_only = {_SYSCALLS[name][column] for name in ("kill", "tgkill")}
    for name, numbers in _SYSCALLS.items():
        number = numbers[column]
        if number in own_only:  # allowed only with args[0] == own pid
            program += [(jeq, 0, 4, number), (ld_w_abs, 0, 0, 16), (jeq, 0, 1, own_pid), (ret, 0, 0, allow),
                        (ret, 0, 0, deny)]
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


def _install_guard(job: dict, blocked: list, workdir: str, allow_ctypes: bool = False) -> None:
    """An audit hook that refuses what submissions never need (PEP 578; defence in depth).

    Reading is allowed in the working folder, Python's installation and libraries, the
    ``coursepack`` package and ``data/``; writing only in the working folder. Starting processes,
    sending signals, sockets, ctypes, adding audit hooks, raising resource limits and reading
    other processes' ``/proc`` entries are refused. A refused action raises PermissionError in
    the student's cell and is reported to the grader. ``ctypes`` (which some libraries use when
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
        blocked.append(f"{event} {str(detail)[:120]}")
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
        elif event == "object.__setattr__" and args and args[0] is guard:
            refuse(event, "guard")

    sys.addaudithook(guard)
