"""The README's promise: Python 3.11+ and make are all `make book` and `make test` need.

* The book builds from a copy of the repository with ``node`` and ``npm`` missing from PATH.
* Before installing anything, the Makefile names a missing prerequisite in one line with how to get it.
* Without Chromium, each group of browser tests is skipped with one line saying what to install.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

NODE_TOOLS = {"node", "nodejs", "npm", "npx", "corepack"}
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "_build", "node_modules", "__pycache__", "*.egg-info",
                                    ".pytest_cache", ".ipynb_checkpoints")


def path_without(names: set[str], folder: Path) -> str:
    """A PATH with every command of this one except ``names``: links to them in ``folder``."""
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for command in Path(directory).glob("*") if Path(directory).is_dir() else []:
            link = folder / command.name
            if command.name not in names and not link.exists() and os.access(command, os.X_OK):
                link.symlink_to(command)
    return str(folder)


@pytest.mark.slow
def test_book_builds_without_node(tmp_path):
    """`make book` in a copy of the repository with no node or npm on PATH (the installed .venv is reused,
    and so are the executed notebooks, when a build has cached them)."""
    copy = tmp_path / "coursepack"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED, symlinks=True)
    installed = tmp_path / "installed"  # stands for .venv's stamp: make must not reinstall into ROOT's .venv
    installed.touch()
    cache = ROOT / "_build" / ".jupyter_cache"
    if cache.is_dir():
        shutil.copytree(cache, copy / "_build" / ".jupyter_cache")
        shutil.copy2(cache.with_name(cache.name + ".inputs"), copy / "_build")
    env = {**os.environ, "PATH": path_without(NODE_TOOLS, tmp_path / "bin"),
           "PYTHONPATH": str(copy)}  # the copy's coursepack, not the one .venv installed from ROOT
    assert shutil.which("npm", path=env["PATH"]) is None and shutil.which("node", path=env["PATH"]) is None
    result = subprocess.run(["make", "book", f"VENV={ROOT / '.venv'}", f"STAMP={installed}"], cwd=copy, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"make book failed without node:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    bundle = (copy / "_build" / "html" / "_static" / "coursepack" / "vega.js").read_text(encoding="utf-8")
    assert bundle.startswith((ROOT / "vendor" / "vega" / "vega.min.js").read_text(encoding="utf-8"))
    assert not (copy / "node_modules").exists()


def stub_python(folder: Path, version: str) -> Path:
    """A stand-in for an old Python: it reports ``version`` and fails the Makefile's version check."""
    stub = folder / "python3"
    stub.write_text(f"#!/bin/sh\ncase \"$*\" in *version_info\\[:2\\]*) echo {version}; exit 0;; esac\nexit 1\n")
    stub.chmod(0o755)
    return stub


def make_book(folder: Path, python: str, **env: str) -> subprocess.CompletedProcess:
    """`make book` in a folder holding only the Makefile, requirements.txt and the JupyterLab settings (nothing can install there)."""
    for name in ("Makefile", "requirements.txt"):
        shutil.copy(ROOT / name, folder)
    shutil.copytree(ROOT / "jupyter-config", folder / "jupyter-config")  # the settings the install step ships
    return subprocess.run(["make", "book", f"PYTHON={python}"], cwd=folder, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_makefile_names_a_missing_python(tmp_path):
    result = make_book(tmp_path, "python-not-installed")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == ("python-not-installed not found: install Python 3.11 or newer, "
                                             "or name it with make PYTHON=/path/to/python3")
    assert not (tmp_path / ".venv").exists()


def test_makefile_names_a_python_too_old(tmp_path):
    stub = stub_python(tmp_path, "3.10")
    result = make_book(tmp_path, str(stub))
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (f"{stub} is Python 3.10; the course pack needs 3.11 or newer: "
                                             "install it and run make PYTHON=python3.11 (or newer)")
    assert not (tmp_path / ".venv").exists()


def test_makefile_names_a_missing_venv_module(tmp_path):
    """As on a bare Debian or Ubuntu, where ensurepip comes with the python3-venv package."""
    shadow = tmp_path / "shadow" / "ensurepip"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("No module named ensurepip")\n')
    result = make_book(tmp_path, sys.executable, PYTHONPATH=str(shadow.parent))
    version = "%d.%d" % sys.version_info[:2]
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (f"{sys.executable} cannot create a virtual environment (no venv/ensurepip "
                                             f"module): on Debian or Ubuntu, apt-get install python{version}-venv")
    assert not (tmp_path / ".venv").exists()


def test_without_chromium_each_browser_group_says_what_to_install(tmp_path):
    """The browser and JupyterLab tests are skipped with one summary line each naming what to install."""
    env = {**os.environ, "COURSEPACK_CHROMIUM": str(tmp_path / "no-chromium")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_browser.py",
                             "tests/test_jupyterlab.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert result.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout[-3000:]  # skipped, none failed
    assert len(skipped) == 2, result.stdout[-3000:]
    assert all("apt-get install chromium" in line for line in skipped), skipped
    assert {line.split()[2].split(":")[0] for line in skipped} == {"tests/test_browser.py", "tests/test_jupyterlab.py"}
