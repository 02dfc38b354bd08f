"""The learner book builds with warnings as errors and has every page a reader needs."""
from html import escape

import pytest

PAGES = {
    "book/intro.html": "Three ways to use this pack",
    "book/how-to-use.html": "Teaching a class",
    "notebooks/01-the-deployment.html": "Learning objectives",
    "book/_generated/exercises/01-the-deployment.html": "Question 1",
    "book/glossary.html": "Article 4",
    "book/_generated/sources-and-data.html": "Every source",
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
def test_sources_page_lists_every_source(built_book):
    from coursepack import data

    html = (built_book / "book/_generated/sources-and-data.html").read_text(encoding="utf-8")
    for url in data.load("sources")["url"]:
        assert url in html or escape(url) in html, f"{url} is not linked from the sources page"
