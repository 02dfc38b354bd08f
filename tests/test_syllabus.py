"""The syllabus's objectives match the chapters, and every objective is assessed by a real question."""
import json
import re

import pytest

from coursepack.book import syllabus
from tests.conftest import ROOT

CHAPTERS = syllabus.chapters()


def normalise(text: str) -> str:
    """Lower-case words only; a MyST role such as {term}`signposts <signpost>` counts as its text."""
    text = re.sub(r"\{\w+\}`([^`<]+?)(?:\s*<[^`]*>)?`", r"\1", text)
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c["title"] for c in CHAPTERS])
def test_chapter_lists_its_objectives(chapter):
    cells = json.loads((ROOT / chapter["notebook"]).read_text(encoding="utf-8"))["cells"]
    text = normalise(" ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown"))
    for objective in chapter["objectives"]:
        assert normalise(objective["text"]) in text, f"{chapter['notebook']} does not list: {objective['text']}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c["title"] for c in CHAPTERS])
def test_every_objective_is_assessed_by_an_existing_question(chapter):
    questions = set(syllabus.question_names(ROOT / chapter["exercises"]))
    assert questions, f"no questions found in {chapter['exercises']}"
    for objective in chapter["objectives"]:
        assert objective["assessed_by"], f"objective not assessed: {objective['text']}"
        missing = set(objective["assessed_by"]) - questions
        assert not missing, f"{chapter['exercises']} has no question(s) {missing}"


def test_every_chapter_has_objectives_in_the_syllabus():
    listed = {c["notebook"] for c in CHAPTERS}
    on_disk = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk <= listed, f"chapters without objectives in book/objectives.yml: {on_disk - listed}"
