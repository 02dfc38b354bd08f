"""Build the HTML book: ``python -m coursepack.book.build --edition learner|instructor --out DIR``.

Why a wrapper around ``jupyter-book build``: the two editions differ in which exercise notebooks they
show (learner notebooks without solutions, or the full solutions), the sources page is generated
from ``data/datapackage.json``, and the offline chart and widget assets are produced from pinned
packages. Warnings and cell errors fail the build (``-W -n --keep-going``).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

from coursepack.book import actorspage, codebook, guide, plan, sourcespage, syllabus
from coursepack.files import write_if_changed
from coursepack.grading import learner

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "book" / "_generated"


def data_zip() -> bytes:
    """The data package (tables, datapackage.json, codebook, change log) as a zip whose bytes change only with the data."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((ROOT / "data").iterdir()):
            if path.suffix in {".csv", ".json", ".yml", ".md"}:
                info = zipfile.ZipInfo(f"data/{path.name}", date_time=(2024, 10, 29, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def forget_stale_outputs(cache: Path, doctrees: Path) -> None:
    """Empty the execution cache and Sphinx's saved pages when the package or the data changed.

    Why: the cache re-runs a notebook only when the notebook's own code changes, and Sphinx re-reads a
    page only when its file changes, but every chart and table also depends on ``coursepack/`` and
    ``data/``.
    """
    package = ROOT / "coursepack"
    inputs = sorted([*package.rglob("*.py"), *package.glob("book/book_static/*"), *package.glob("book/templates/*"),
                     *(ROOT / "data").iterdir()])
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in inputs if p.is_file())).hexdigest()
    stamp = cache.with_name(cache.name + ".inputs")
    if stamp.exists() and stamp.read_text() == digest:
        return
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(doctrees, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)


def edition_files(edition: str, out: Path) -> tuple[Path, Path]:
    """Write the edition's configuration and table of contents; return their paths."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    config["execute"]["cache"] = str(out / ".jupyter_cache")  # one cache per output folder
    if edition == "instructor":
        config["title"] += " (instructor edition)"
        toc["parts"].append({"caption": "For instructors", "chapters": [
            {"file": "book/instructor-guide"}, {"file": "book/_generated/rubrics"}, {"file": "book/simulation-briefs"},
        ]})
    config_path = out / f"_config.{edition}.yml"
    toc_path = out / f"_toc.{edition}.yml"
    write_if_changed(config_path, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    write_if_changed(toc_path, yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))
    return config_path, toc_path


def prepare(edition: str) -> None:
    """Generate the pages the book builds from: exercises for the edition, the sources page and the codebook."""
    learner.book_exercises(edition, GENERATED / "exercises")
    write_if_changed(GENERATED / "sources-and-data.md", sourcespage.render())
    write_if_changed(GENERATED / "codebook.md", codebook.render())
    write_if_changed(GENERATED / "objectives.md", syllabus.render())
    write_if_changed(GENERATED / "rubrics.md", guide.render())
    write_if_changed(GENERATED / "plan-sessions.md", plan.render_sessions())
    write_if_changed(GENERATED / "plan-self-study.md", plan.render_self_study())
    write_if_changed(GENERATED / "plan-weights.md", plan.render_weights())
    write_if_changed(GENERATED / "plan-run-sheets.md", plan.render_run_sheets())
    write_if_changed(GENERATED / "plan-injects.md", plan.render_injects())
    write_if_changed(GENERATED / "plan-chapter-times.md", plan.render_chapter_times())
    write_if_changed(GENERATED / "actors.md", actorspage.render())
    write_if_changed(GENERATED / "coursepack-data.zip", data_zip())


def build(edition: str, out: Path) -> int:
    """Build one edition into ``out/_build/html`` (learner: ``_build/html``); return the exit code."""
    out = (ROOT / out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    prepare(edition)
    config_path, toc_path = edition_files(edition, out)
    path_output = out.parent if out.name == "_build" else out  # jupyter-book writes into path_output/_build
    forget_stale_outputs(out / ".jupyter_cache", path_output / "_build" / ".doctrees")
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
        "--path-output", str(path_output),
        "--config", str(config_path), "--toc", str(toc_path),
        "-W", "-n", "--keep-going",
    ]
    return subprocess.call(command, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", choices=["learner", "instructor"], default="learner")
    parser.add_argument("--out", type=Path, default=Path("_build"), help="output folder (default: _build)")
    args = parser.parse_args(argv)
    return build(args.edition, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
