"""The book explains the analysis in its own words: no long passages copied from the source reading."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CHECKER = ROOT.parent / "shared" / "tools" / "check_copying.py"


def test_no_long_copied_passages():
    if not CHECKER.exists():
        pytest.skip(f"copying checker not found at {CHECKER} (it ships beside the repository, not in it)")
    result = subprocess.run([sys.executable, str(CHECKER), str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
