"""File helpers for the book build and the learner edition: notebooks as plain JSON, files rewritten only on change."""
from __future__ import annotations

import json
import os
from pathlib import Path


def read_notebook(path: Path) -> dict:
    """A notebook as plain JSON (no nbformat validation needed for what we do)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def dump_notebook(nb: dict) -> str:
    """Serialise a notebook the way Jupyter does (stable, so unchanged content gives equal text)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Write ``data`` to ``path`` only if it differs; return True if the file was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == raw:
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    return True
