"""Shared fixtures: a throwaway copy of the data package, and the learner book built once per run."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BOOK_HTML = ROOT / "_build" / "html"


@pytest.fixture
def data_copy(tmp_path):
    """A writable copy of data/ for tests that break a table on purpose."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture(scope="session")
def built_book():
    """Build the learner book (cached notebooks make a rebuild quick) and return _build/html."""
    result = subprocess.run(
        [sys.executable, "-m", "coursepack.book.build", "--edition", "learner", "--out", "_build"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.fail("The book build failed (warnings count as errors):\n" + result.stdout[-4000:] + result.stderr[-4000:])
    return BOOK_HTML
