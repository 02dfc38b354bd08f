"""A throwaway JupyterLab server and an offline Chromium page for the browser tests.

``jupyterlab(root)`` starts ``.venv``'s JupyterLab on 127.0.0.1 (a free port, a token, no browser) with its
own config, data, runtime, settings and IPython folders under a temporary directory, so it never touches the
user's settings, and kills it (and its kernels) at the end. ``offline_page(browser)`` opens a page in which
every request to a host other than 127.0.0.1 is aborted and recorded. The rest are small steps a student
takes in JupyterLab: open a notebook, run all cells, wait for the kernel.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser import CHROMIUM, launch

LOCAL_HOSTS = {"127.0.0.1"}

# The settings the course pack installs into .venv (jupyter-config/, installed by the Makefile): the server runs
# with JupyterLab's defaults plus these, and nothing of the test's own.
ROOT = Path(__file__).resolve().parent.parent
PREFIX = Path(sys.prefix)
INSTALLED_CONFIG = {
    "lab/settings/overrides.json": PREFIX / "share" / "jupyter" / "lab" / "settings" / "overrides.json",
    "jupyter_server_config.d/coursepack.json": PREFIX / "etc" / "jupyter" / "jupyter_server_config.d" / "coursepack.json",
    "labconfig/page_config.json": PREFIX / "etc" / "jupyter" / "labconfig" / "page_config.json",
}


def missing_config() -> list[str]:
    """The project's JupyterLab settings files not installed, or installed out of date, in this environment."""
    return [f"jupyter-config/{name} -> {installed}" for name, installed in INSTALLED_CONFIG.items()
            if not installed.exists() or installed.read_bytes() != (ROOT / "jupyter-config" / name).read_bytes()]


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path
    home: Path  #: the temporary folder holding the server's config, settings, runtime files and log
    log: Path

    def notebook_url(self, relpath: str) -> str:
        """URL that opens ``relpath`` alone (``reset`` drops any restored tabs)."""
        return f"{self.url}/lab/tree/{relpath}?reset&token={self.token}"

    def api(self, method: str, path: str):
        """Call the server's REST API; return the decoded JSON answer (None if empty)."""
        request = urllib.request.Request(f"{self.url}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_state(self, relpath: str) -> str | None:
        """Execution state of the kernel the server runs for the notebook at ``relpath`` (None if none)."""
        for session in self.api("GET", "sessions"):
            if session.get("path") == relpath and session.get("kernel"):
                return session["kernel"].get("execution_state")
        return None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root: Path, timeout: float = 45):
    """Start JupyterLab serving ``root`` and yield a :class:`Lab`; stop it and its kernels afterwards."""
    home = Path(tempfile.mkdtemp(prefix="coursepack-lab-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "COURSEPACK_BOOK"))}
    dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "settings", "JUPYTERLAB_WORKSPACES_DIR": "workspaces", "IPYTHONDIR": "ipython"}
    for var, name in dirs.items():
        (home / name).mkdir()
        env[var] = str(home / name)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    port, token = free_port(), secrets.token_hex(16)
    log = home / "jupyterlab.log"
    command = [
        str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
        *(["--allow-root"] if os.geteuid() == 0 else []),
        # Safety net if this process dies without cleaning up: idle kernels and the idle server end themselves.
        "--MappingKernelManager.cull_idle_timeout=300", "--MappingKernelManager.cull_interval=60",
        "--ServerApp.shutdown_no_activity_timeout=600",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=Path(root), home=home, log=log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{lab.log_tail()}")
            try:
                lab.api("GET", "status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{lab.log_tail()}")
                time.sleep(0.25)
        yield lab
    finally:
        stop(process, lab)
        shutil.rmtree(home, ignore_errors=True)


def stop(process: subprocess.Popen, lab: Lab) -> None:
    """Shut the kernels down, stop the server, and kill whatever of ours is left."""
    with contextlib.suppress(OSError, ValueError):
        for kernel in lab.api("GET", "kernels"):
            lab.api("DELETE", f"kernels/{kernel['id']}")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    # Kernels run in sessions of their own; any left is found by its connection file in our runtime folder.
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            if proc.name.isdigit() and str(lab.home).encode() in (proc / "cmdline").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)


@dataclass
class Offline:
    """Requests to other hosts that the page attempted (all were aborted)."""

    blocked: list[str] = field(default_factory=list)

    def route(self, route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()


def launch_chromium(playwright, profile: Path):
    """Debian's Chromium, headless, in a fresh profile, tall enough for a notebook's outputs."""
    return launch(playwright, str(profile), viewport={"width": 1280, "height": 1000})


def offline_page(context) -> tuple:
    """A new page whose requests leave 127.0.0.1 never; returns the page, its :class:`Offline` record and
    a list that collects the page's console errors and uncaught exceptions."""
    offline, errors = Offline(), []
    context.route("**/*", offline.route)
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return page, offline, errors


def open_notebook(page, lab: Lab, relpath: str, timeout: float = 30_000) -> None:
    """Open ``relpath``, accept the "Select Kernel" dialog as a student would, and wait until the kernel
    is idle both on the server and in the notebook's toolbar."""
    page.goto(lab.notebook_url(relpath), wait_until="domcontentloaded", timeout=timeout)
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=timeout)
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        elif lab.kernel_state(relpath) == "idle" and kernel_idle(page):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the kernel for {relpath} was not idle within {timeout / 1000:.0f} s "
                         f"(server says {lab.kernel_state(relpath)!r})")


def kernel_idle(page) -> bool:
    """The notebook toolbar's kernel indicator says idle."""
    status = page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator")
    return status.count() > 0 and status.first.get_attribute("data-status") == "idle"


def menu(page, top: str, item: str) -> None:
    """Choose ``item`` from the menu bar's ``top`` menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def run_all_cells(page) -> None:
    """Run menu > Run All Cells."""
    menu(page, "Run", "Run All Cells")


def restart_and_run_all(page) -> None:
    """Kernel menu > Restart Kernel and Run All Cells…, confirmed."""
    menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog .jp-mod-accept").click()


def save_notebook(page, lab: Lab, relpath: str, tries: int = 3, timeout: float = 8) -> None:
    """Save with Ctrl+S (again if the file did not change); wait until the file on disk is newer than before."""
    path = lab.root / relpath
    before = path.stat().st_mtime_ns
    for _ in range(tries):
        page.locator(".jp-NotebookPanel .jp-InputPrompt").first.click()  # the notebook has the focus, in command mode
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while path.stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.2)
        if path.stat().st_mtime_ns != before:
            time.sleep(0.5)  # the write is done when the server answers; let it finish
            return
    raise AssertionError(f"{relpath} was not saved after {tries} tries of Ctrl+S:\n{lab.log_tail(1500)}")


def rename_notebook(page, new_name: str) -> None:
    """File > Rename Notebook…, as a student would: type the new name and confirm."""
    menu(page, "File", "Rename Notebook")
    field = page.locator(".jp-Dialog input")
    field.fill(new_name)
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def wait_until_done(page, timeout: float = 45_000) -> None:
    """Wait until no cell waits or runs and the kernel is idle."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')];
            const indicator = document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))
                && (!indicator || indicator.dataset.status === 'idle');
        }""",
        timeout=timeout, polling=250,
    )


# Chart outputs, whatever altair renderer made them: drawn by JupyterLab's Vega renderer, a Vega(-Lite) mime
# output, or HTML whose script calls vegaEmbed. A chart has drawn when its output holds vega-embed's SVG marks
# or canvas.
_CHARTS_JS = """() => {
    const outputs = [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output')];
    const charts = outputs.filter(out => out.classList.contains('jp-RenderedVegaCommon5')
        || /vnd\\.vega/.test(out.dataset.mimeType || '')
        || [...out.querySelectorAll('script')].some(s => s.textContent.includes('vegaEmbed(')));
    const drawn = charts.filter(out => out.querySelector('.vega-embed svg.marks, .vega-embed canvas'));
    const problems = charts.filter(out => !drawn.includes(out))
        .map(out => (out.innerText || '').trim().slice(0, 200) || '(empty output)');
    const withData = charts.filter(out => {
        const before = out.closest('.jp-OutputArea-child')?.previousElementSibling;
        return before && before.querySelector('details.coursepack-data summary');
    });
    return {charts: charts.length, drawn: drawn.length, with_data: withData.length, problems};
}"""


def charts(page) -> dict:
    """How many chart outputs the notebook shows, how many drew, how many have their data block just above
    them, and the text of those that did not draw."""
    return page.evaluate(_CHARTS_JS)


def wait_for_charts(page, timeout: float = 15_000) -> dict:
    """Wait (bounded) until every chart output has drawn; return :func:`charts` either way."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        state = charts(page)
        if (state["charts"] and state["drawn"] == state["charts"]) or time.monotonic() > deadline:
            return state
        page.wait_for_timeout(250)


def code_cell(page, text: str):
    """The one code cell whose source contains ``text``."""
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea .cm-content", has_text=text))
    assert cell.count() == 1, f"expected one code cell containing {text!r}, found {cell.count()}"
    return cell


def replace_source(page, cell, source: str) -> None:
    """Type ``source`` over a cell's code as a student would (no auto-closed brackets)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)
