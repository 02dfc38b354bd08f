"""The student's session in JupyterLab, offline, in a real browser (Debian's Chromium through Playwright).

One throwaway JupyterLab server (``tests/jupyterlab_session.py``), with JupyterLab's defaults plus the settings
the course pack installs (``jupyter-config/``) and nothing else, serves a temporary copy of the chapters and of
the learner edition of the exercise sets. Every request the page makes to a host other than 127.0.0.1 is
aborted and recorded, and must not happen. The tests run all cells (Run > Run All Cells) and then:

* every chapter: its charts draw, each with its data table just above it; saved, it is under :data:`SAVED_LIMIT` bytes; a second server, in a fresh
  browser profile, opens the saved chapters and draws their charts without running anything (sizes and Run All
  times go to ``_build/jupyterlab-chapters.json``);
* every exercise set, renamed in JupyterLab to the hand-in name ``student_NN-name.ipynb`` and restarted with
  Kernel > Restart Kernel and Run All Cells: otter finds its checks;

* chapter 1: every chart draws; its MyST renders (jupyterlab-myst): no raw roles or labels, quick-check answers
  folded; the "As of" widget moves with the arrow keys and its HTML result is
  recomputed by the kernel; the chart's "Days after" slider moves back and the chart redraws with fewer
  points;
* exercise set 1: its chart draws; ``grader.check("q1")`` fails a wrong answer with a hint, then passes
  a right one.

Screenshots go to ``_build/screenshots/jupyterlab-chapter-01.png`` and ``jupyterlab-exercise-01.png``.
"""
from __future__ import annotations

import json
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from coursepack.book.renderers import WIDEST
from tests.jupyterlab_session import (
    CHROMIUM, code_cell, jupyterlab, launch_chromium, missing_config, offline_page, open_notebook,
    rename_notebook, replace_source, restart_and_run_all, run_all_cells, save_notebook, wait_for_charts,
    wait_until_done,
)

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
CHAPTER = CHAPTERS[0]
LEARNER = ROOT / "_build" / "learner"
EXERCISE = "01-the-deployment.ipynb"
SETS = sorted(path.name for path in (ROOT / "exercises").glob("[0-9][0-9]-*.ipynb"))
SCREENSHOTS = ROOT / "_build" / "screenshots"
FIGURES = ROOT / "_build" / "jupyterlab-chapters.json"
#: Bytes a chapter may take once saved after Run All: its charts are saved as their Vega specs.
SAVED_LIMIT = 300_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"JupyterLab browser tests need Chromium at {CHROMIUM}: apt-get install chromium "
                "(or set COURSEPACK_CHROMIUM to a Chromium binary)", allow_module_level=True)

# Exercise 1, question 1: keep the rows of `troops` given by South Korea.
Q1_WRONG = "south_korean_estimates = troops\nsouth_korean_estimates"
Q1_WRONG_FEEDBACK = "come from other countries"
Q1_RIGHT = 'south_korean_estimates = troops[troops["claimant_country"] == "South Korea"]\nsouth_korean_estimates'
Q1_PASSED = "q1: right"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a temporary folder: notebooks/ (chapter 1) and learner/ (the hand-out)."""
    root = tmp_path_factory.mktemp("lab-root")
    (root / "notebooks").mkdir()
    for chapter in CHAPTERS:
        shutil.copy(chapter, root / "notebooks")
    if (LEARNER / EXERCISE).exists():
        shutil.copytree(LEARNER, root / "learner", ignore=shutil.ignore_patterns("*.zip"))
        (root / "handin").mkdir()
        for name in SETS:
            shutil.copy(LEARNER / name, root / "handin")
    with jupyterlab(root) as server:
        yield server


@pytest.fixture
def browser(tmp_path):
    """A fresh Chromium profile; closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "chromium-profile")
        try:
            yield context
        finally:
            context.close()


def test_the_course_settings_are_installed():
    """JupyterLab in .venv reads the course pack's settings (no news, no update checks, no extension manager)."""
    missing = missing_config()
    assert not missing, f"not installed (run make lab, or make .venv/.installed): {missing}"


def run_notebook(browser, lab, relpath: str):
    """Open ``relpath`` offline, run all cells, wait for the kernel; return (page, offline record, errors)."""
    page, offline, errors = offline_page(browser)
    page.set_default_timeout(15_000)
    open_notebook(page, lab, relpath)
    run_all_cells(page)
    wait_until_done(page)
    return page, offline, errors


def assert_charts_drew(page, offline, errors, at_least: int) -> None:
    state = wait_for_charts(page)
    assert state["charts"] >= at_least and state["drawn"] == state["charts"], (
        f"{state['drawn']} of {state['charts']} charts drew offline (expected at least {at_least}).\n"
        f"Charts that did not draw show: {state['problems']}\nBlocked requests: {offline.blocked}\n"
        f"Page errors: {[e[:200] for e in errors]}"
    )
    assert not offline.blocked, f"the page tried to reach other hosts: {offline.blocked}"


def test_chapter_01_charts_and_widgets_work_offline(lab, browser):
    page, offline, errors = run_notebook(browser, lab, f"notebooks/{CHAPTER.name}")
    assert_charts_drew(page, offline, errors, at_least=3)

    # The ipywidgets explorer: "As of" slider, result in an HTML widget recomputed by the kernel.
    explorer = page.locator(".widget-vbox").filter(has=page.locator(".widget-slider"))
    handle, readout = explorer.locator(".noUi-handle"), explorer.locator(".widget-readout")
    result = explorer.locator(".widget-html-content")
    handle.scroll_into_view_if_needed()
    assert readout.inner_text() == "29 Oct 2024"
    before = result.inner_text()
    handle.focus()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function("el => el.innerText.trim() === '23 Oct 2024'", arg=readout.element_handle())
    day = f"{datetime.strptime(readout.inner_text(), '%d %b %Y'):%d %B %Y}"
    page.wait_for_function("([el, day]) => el.innerText.includes(day)", arg=[result.element_handle(), day])
    assert result.inner_text() != before

    # The Vega-Lite slider "Days after 01 October 2024": from 28 (29 October) back to 22; fewer points show.
    chart = page.locator(".vega-embed").filter(has=page.locator(".vega-bindings input[type=range]"))
    slider = chart.locator(".vega-bindings input[type=range]").first
    marks = chart.locator("svg.marks")
    shown = marks.locator(".mark-symbol path").count()
    start = int(slider.input_value())
    slider.focus()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")
    assert int(slider.input_value()) == start - 6
    page.wait_for_function("([svg, n]) => svg.querySelectorAll('.mark-symbol path').length < n",
                           arg=[marks.element_handle(), shown])

    # MyST renders as in the book (jupyterlab-myst): no raw roles or labels, quick-check answers folded.
    myst = page.evaluate("""() => {
        const text = [...document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')].map(c => c.innerText).join('\\n');
        const checks = [...document.querySelectorAll('.jp-MarkdownCell details')].filter(d => d.textContent.includes('Quick check'));
        return {raw: ['{term}', '{doc}', '(ch-', ':class: dropdown', '```{'].filter(r => text.includes(r)),
                checks: checks.length, open: checks.filter(d => d.open).length};
    }""")
    assert not myst["raw"] and myst["checks"] and not myst["open"], myst

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chart.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "jupyterlab-chapter-01.png")
    assert not [e for e in errors if e.startswith("uncaught")], errors


def test_chapters_saved_after_run_all_are_small_and_redraw_when_reopened(lab, tmp_path):
    """Each chapter: Run All, every chart draws, Save; the file is small. Then a fresh server and a fresh
    browser profile open the saved copies: the charts draw from the saved outputs alone."""
    from playwright.sync_api import sync_playwright

    figures = {}
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "profile-1")
        try:
            for chapter in CHAPTERS:
                relpath = f"notebooks/{chapter.name}"
                page, offline, errors = offline_page(context)
                page.set_default_timeout(15_000)
                open_notebook(page, lab, relpath)
                start = time.monotonic()
                run_all_cells(page)
                wait_until_done(page)
                seconds = time.monotonic() - start
                state = wait_for_charts(page)
                assert state["charts"] and state["drawn"] == state["charts"], (chapter.name, state, errors)
                assert state["with_data"] == state["charts"], f"{chapter.name}: a chart without its data block: {state}"
                save_notebook(page, lab, relpath)
                size = (lab.root / relpath).stat().st_size
                figures[chapter.name] = {"saved_bytes": size, "run_all_seconds": round(seconds, 1),
                                         "charts": state["charts"], "data_blocks": state["with_data"],
                                         "blocked_requests": len(offline.blocked)}
                assert not offline.blocked, f"{chapter.name}: the page tried to reach other hosts: {offline.blocked}"
                page.close()
        finally:
            context.close()

        saved = tmp_path / "saved"
        shutil.copytree(lab.root / "notebooks", saved / "notebooks")
        with jupyterlab(saved) as fresh:
            context = launch_chromium(playwright, tmp_path / "profile-2")
            try:
                for chapter in CHAPTERS:
                    page, offline, errors = offline_page(context)
                    page.set_default_timeout(15_000)
                    open_notebook(page, fresh, f"notebooks/{chapter.name}")
                    state = wait_for_charts(page)
                    figures[chapter.name]["charts_redrawn"] = state["drawn"]
                    figures[chapter.name]["data_blocks_reopened"] = state["with_data"]
                    figures[chapter.name]["blocked_requests"] += len(offline.blocked)
                    assert state["drawn"] == figures[chapter.name]["charts"], (
                        f"{chapter.name} reopened: {state['drawn']} of {figures[chapter.name]['charts']} charts drew; "
                        f"{state['problems']}")
                    assert not offline.blocked, f"{chapter.name} reopened: requests to other hosts: {offline.blocked}"
                    page.close()
            finally:
                context.close()
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    too_big = {name: f["saved_bytes"] for name, f in figures.items() if f["saved_bytes"] >= SAVED_LIMIT}
    assert not too_big, f"saved after Run All, these chapters are {SAVED_LIMIT:,} bytes or more: {too_big}"


@pytest.mark.parametrize("name", SETS)
def test_exercise_renamed_to_the_hand_in_name_still_checks(lab, browser, name):
    """A student renames the set to ``student_NN-name.ipynb`` (as the hand-in asks), restarts and runs all:
    the first cell still finds the notebook and ``grader.check`` answers instead of failing."""
    if not (LEARNER / name).exists():
        pytest.skip(f"no learner notebook at {LEARNER / name}: run `python -m coursepack.grading.learner`")
    page, offline, errors = offline_page(browser)
    page.set_default_timeout(15_000)
    open_notebook(page, lab, f"handin/{name}")
    rename_notebook(page, f"student_{name}")
    renamed = lab.root / "handin" / f"student_{name}"
    deadline = time.monotonic() + 10
    while not renamed.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert renamed.exists() and not (lab.root / "handin" / name).exists(), sorted(p.name for p in renamed.parent.iterdir())
    restart_and_run_all(page)
    wait_until_done(page, timeout=60_000)
    init = code_cell(page, "grader = otter.Notebook(")
    assert not init.locator(".jp-OutputArea-output").count(), init.inner_text()
    check = page.locator(".jp-NotebookPanel .jp-CodeCell").filter(
        has=page.locator(".cm-content", has_text="grader.check(")).first
    output = check.locator(".jp-OutputArea-output")
    expect(output.first).to_contain_text("haven't replaced", timeout=20_000)  # the check's word on the blank answer
    text = output.first.inner_text()
    assert not any(failure in text for failure in ("FileNotFoundError", "No such file", "Traceback")), text
    assert not offline.blocked, f"the page tried to reach other hosts: {offline.blocked}"


def test_exercise_01_check_gives_feedback(lab, browser):
    if not (LEARNER / EXERCISE).exists():
        pytest.skip(f"no learner notebook at {LEARNER / EXERCISE}: run `python -m coursepack.grading.learner`")
    page, offline, errors = run_notebook(browser, lab, f"learner/{EXERCISE}")
    assert_charts_drew(page, offline, errors, at_least=0)  # the set draws no chart of its own; any it draws must draw

    answer = code_cell(page, "south_korean_estimates = ")
    feedback = code_cell(page, 'grader.check("q1")').locator(".jp-OutputArea-output")
    for source, expected in ((Q1_WRONG, Q1_WRONG_FEEDBACK), (Q1_RIGHT, Q1_PASSED)):
        replace_source(page, answer, source)
        page.keyboard.press("Shift+Enter")  # runs the answer, selects the check cell
        page.keyboard.press("Shift+Enter")  # runs the check
        expect(feedback).to_contain_text(expected, timeout=20_000)  # the output is replaced, not edited
        if expected == Q1_WRONG_FEEDBACK:
            assert Q1_PASSED not in feedback.inner_text()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1500})  # the answer, its table and the feedback
    answer.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=SCREENSHOTS / "jupyterlab-exercise-01.png")
    assert not [e for e in errors if e.startswith("uncaught")], errors


# Each chart's box and drawing against its output area and the window (charts redraw on resizing).
_CHART_FIT_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output .vega-embed')]
    .map(chart => {
        const area = chart.closest('.jp-OutputArea-output').getBoundingClientRect();
        const drawing = chart.querySelector('svg.marks').getBoundingClientRect();
        return {area: [area.left, area.right], drawing: [drawing.left, drawing.right], window: window.innerWidth};
    })"""


def test_chapter_01_charts_fit_a_narrow_window(lab, browser):
    """Chapter 1's charts take the width of their output area, in a desktop window and one as narrow as a
    phone (390 px) alike: none is cut off or wider than the window."""
    page, offline, errors = run_notebook(browser, lab, f"notebooks/{CHAPTER.name}")
    assert_charts_drew(page, offline, errors, at_least=3)
    open_panel = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if open_panel.count():
        open_panel.first.click()  # close the file browser, as a reader on a small screen would
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(1000)  # JupyterLab lays itself out again, then Vega redraws each chart
        fits = page.evaluate(_CHART_FIT_JS)
        assert len(fits) >= 3, f"{len(fits)} charts drawn at {width} px"
        for i, fit in enumerate(fits):
            (left, right), (drawn_left, drawn_right) = fit["area"], fit["drawing"]
            assert right - left > width / 2, f"at {width} px the output area is only {right - left:.0f} px wide"
            assert left - 1 <= drawn_left and drawn_right <= min(right, fit["window"]) + 1, (
                f"chart {i + 1} at {width} px: drawn from {drawn_left:.0f} to {drawn_right:.0f} px in an output "
                f"area from {left:.0f} to {right:.0f} px")
            assert drawn_right - drawn_left >= min(right - left, WIDEST) - 40, (
                f"chart {i + 1} at {width} px is {drawn_right - drawn_left:.0f} px wide in a "
                f"{right - left:.0f} px output area: it should take the area's width")
