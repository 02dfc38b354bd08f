"""Refresh the vendored JavaScript from the npm packages pinned in package-lock.json: ``make vendor``.

Copies each package's file and licence into ``vendor/<package>/`` and, for Vega, whose minified build
bundles its dependencies, writes the licence of every package it depends on into ``THIRD-PARTY-NOTICES.txt``.
Run ``npm ci --ignore-scripts`` first (``make vendor`` does); nothing else in the project needs npm.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "vendor"
#: What the book and its tests load from each package, and the licence files that go with it.
FILES = {
    "vega": ["build/vega.min.js", "LICENSE"],
    "axe-core": ["axe.min.js", "LICENSE", "LICENSE-3RD-PARTY.txt"],
}


def dependencies(lock: dict, name: str) -> list[str]:
    """Every package ``name`` depends on in the lock file, directly or not, sorted."""
    found, todo = set(), [name]
    while todo:
        for dependency in lock["packages"][f"node_modules/{todo.pop()}"].get("dependencies", {}):
            if dependency not in found:
                found.add(dependency)
                todo.append(dependency)
    return sorted(found)


def notices(lock: dict, name: str) -> str:
    """The name, version, licence and licence text of every package ``name`` depends on."""
    parts = [f"Every package {name} depends on in package-lock.json, with its licence. {name}'s minified browser\n"
             "build bundles the browser libraries among them (d3 and the vega modules).\n"]
    for dependency in dependencies(lock, name):
        entry = lock["packages"][f"node_modules/{dependency}"]
        texts = sorted((NODE_MODULES / dependency).glob("LICEN[CS]E*"))
        parts.append(f"\n{'=' * 78}\n{dependency} {entry['version']} ({entry.get('license', 'see below')})\n{'=' * 78}\n"
                     + "".join(text.read_text(encoding="utf-8") for text in texts))
    return "".join(parts)


def main() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for name, files in FILES.items():
        folder = VENDOR / name
        folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copyfile(NODE_MODULES / name / file, folder / Path(file).name)
        print(f"vendor/{name}: {name} {lock['packages'][f'node_modules/{name}']['version']}")
    (VENDOR / "vega" / "THIRD-PARTY-NOTICES.txt").write_text(notices(lock, "vega"), encoding="utf-8")


if __name__ == "__main__":
    main()
