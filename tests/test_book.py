"""Both editions build with warnings as errors and have every page their readers need."""
import re
import subprocess
import sys
from html import escape, unescape

import pytest

from tests.conftest import ROOT

PAGES = {
    "book/intro.html": "Three ways to use this pack",
    "book/how-to-use.html": "Teaching a class",
    "notebooks/01-the-deployment.html": "Learning objectives",
    "book/_generated/exercises/01-the-deployment.html": "Question 1",
    "book/glossary.html": "Article 4",
    "book/pandas-primer.html": "Boolean filters",
    "book/_generated/sources-and-data.html": "Every source",
    "book/_generated/codebook.html": "Rules between tables",
    "book/bibliography.html": "Glantz",
}


@pytest.mark.slow
@pytest.mark.parametrize("page,text", PAGES.items())
def test_page_is_built_with_its_content(built_book, page, text):
    html = (built_book / page).read_text(encoding="utf-8")
    assert text in html, f"{page} lacks {text!r}"


@pytest.mark.slow
def test_chapter_outputs_were_executed(built_book):
    html = (built_book / "notebooks/01-the-deployment.html").read_text(encoding="utf-8")
    assert "cell_output" in html and "Traceback" not in html


@pytest.mark.slow
def test_formulas_are_mathml_and_need_no_script(built_book):
    """Exercise set 3's weighted score is MathML written at build time; no page loads MathJax."""
    html = (built_book / "book/_generated/exercises/03-korean-peninsula.html").read_text(encoding="utf-8")
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in html
    assert "<mfrac>" in html and "\\frac" not in html
    loads_mathjax = re.compile(r"<script[^>]*mathjax", re.IGNORECASE)
    assert not [p for p in built_book.rglob("*.html") if loads_mathjax.search(p.read_text(encoding="utf-8"))]


@pytest.mark.slow
def test_sources_page_lists_every_source(built_book):
    from coursepack import data

    html = (built_book / "book/_generated/sources-and-data.html").read_text(encoding="utf-8")
    for url in data.load("sources")["url"]:
        assert url in html or escape(url) in html, f"{url} is not linked from the sources page"


CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_offers_notebook_and_data_downloads(built_book, chapter):
    html = (built_book / f"notebooks/{chapter}.html").read_text(encoding="utf-8")
    assert f"{chapter}.ipynb" in html, "no .ipynb download button"
    assert "coursepack-data.zip" in html, "no link to the data zip"


STRAIGHT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def brief_lines() -> set[str]:
    """The confidential lines of the simulation: every fact under an "Only you know" heading of a seat's brief in
    book/simulation-briefs.md, and every consequence the chair reads out at the start of Round 3, as text."""
    text = (ROOT / "book" / "simulation-briefs.md").read_text(encoding="utf-8")
    lines, confidential, consequences = set(), False, False
    for line in text.splitlines():
        if line.startswith("**Only you know"):
            confidential = True
        elif line.startswith(("**", "#", "(")):
            confidential = False
        if line.startswith("#"):
            consequences = line.startswith("## Consequences")
        if confidential and line.startswith("- "):
            lines.add(line[2:])
        if consequences and line.startswith("| ") and not line.startswith("| If the council"):
            lines.add(line.split(" | ")[1])
    lines = {re.sub(r"[*`]", "", line).strip() for line in lines}
    return {line for line in lines if len(line) >= 40}


def test_brief_confidential_lines_are_kept_off_the_public_simulation_page():
    """Every seat's brief has a confidential section, and the public scenario page repeats none of its lines."""
    briefs = (ROOT / "book" / "simulation-briefs.md").read_text(encoding="utf-8")
    assert briefs.count("**Only you know") >= 13, "a seat's brief has lost its confidential section"
    assert len(brief_lines()) >= 40, "the confidential lines were not found: the leak test would prove nothing"
    public = " ".join(re.sub(r"[*`]", "", (ROOT / "book" / "simulation.md").read_text(encoding="utf-8")).split())
    leaked = [line[:60] for line in brief_lines() if " ".join(line.split()) in public]
    assert not leaked, "confidential lines on the public simulation page:\n" + "\n".join(leaked)


@pytest.mark.slow
def test_learner_edition_holds_no_role_brief(built_book):
    """The briefs are instructor-only: no page, source copy or search index of the learner book holds one of them."""
    assert len(brief_lines()) >= 40, "the confidential lines were not found: the test would prove nothing"
    assert not (built_book / "book/simulation-briefs.html").exists()
    found = []
    for path in built_book.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".txt", ".md", ".js", ".json", ".ipynb"}:
            text = re.sub(r"[*`]", "", unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8", errors="replace"))))
            text = " ".join(text.translate(STRAIGHT).split())  # the HTML has curly quotes where the source has straight
            found += [f"{path.relative_to(built_book)}: {line[:60]}" for line in brief_lines() if " ".join(line.split()) in text]
    assert not found, "role briefs in the learner book:\n" + "\n".join(found[:10])


@pytest.mark.slow
def test_instructor_edition_has_solutions_rubrics_and_briefs():
    result = subprocess.run([sys.executable, "-m", "coursepack.book.build", "--edition", "instructor",
                             "--out", "_build/instructor"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = ROOT / "_build/instructor/_build/html"
    for page in ["book/instructor-guide.html", "book/_generated/rubrics.html", "book/simulation-briefs.html"]:
        assert (html / page).exists(), f"instructor edition lacks {page}"
    exercise = (html / "book/_generated/exercises/01-the-deployment.html").read_text(encoding="utf-8")
    assert "report_gaps" in exercise and "BEGIN SOLUTION" not in exercise
    assert "The numbers of days are not right." in exercise, "the instructor exercise page should show the solution's tests"


def test_outputs_are_forgotten_only_when_package_or_data_change(tmp_path):
    from coursepack.book.build import forget_stale_outputs

    cache, doctrees = tmp_path / ".jupyter_cache", tmp_path / "_build" / ".doctrees"

    def fill():
        cache.mkdir(exist_ok=True)
        doctrees.mkdir(parents=True, exist_ok=True)

    fill()
    forget_stale_outputs(cache, doctrees)  # no record of the inputs yet: start afresh
    assert not cache.exists() and not doctrees.exists()
    fill()
    forget_stale_outputs(cache, doctrees)  # same package and data: keep everything
    assert cache.exists() and doctrees.exists()
    (tmp_path / ".jupyter_cache.inputs").write_text("made from other code")
    forget_stale_outputs(cache, doctrees)
    assert not cache.exists() and not doctrees.exists()
