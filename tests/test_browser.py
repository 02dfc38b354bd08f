"""The built HTML book in a real browser: offline, drawn, interactive and accessible.

Serves the learner book (``_build/html``, or ``COURSEPACK_BOOK_HTML``) on 127.0.0.1, opens every page in
Debian's Chromium with every request to another host blocked and recorded, and checks that nothing
left the machine, nothing logged an error, every chart drew with its controls, widgets work, and axe-core
finds no critical or serious accessibility violation. Builds nothing: run ``make book`` first.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coursepack.pages_bench import CHAPTER_LIMIT, CHROMIUM, book_pages, launch, serve, served_file

ROOT = Path(__file__).resolve().parent.parent
BOOK = Path(os.environ.get("COURSEPACK_BOOK_HTML", ROOT / "_build" / "html"))
AXE = ROOT / "vendor" / "axe-core" / "axe.min.js"  # kept in the repository (vendor/README.md)
CHAPTER_1 = "notebooks/01-the-deployment.html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
BUILT = (BOOK / "index.html").is_file()

pytestmark = pytest.mark.browser
if not CHROMIUM.exists():
    pytest.skip(f"browser and accessibility tests of the book need Chromium at {CHROMIUM}: apt-get install chromium "
                "(or set COURSEPACK_CHROMIUM to a Chromium binary)", allow_module_level=True)


@dataclass
class Visit:
    """What one page did in the browser."""

    page: object
    outside: list[str] = field(default_factory=list)  # requests to any host but the local server
    errors: list[str] = field(default_factory=list)  # console errors, page errors and failed responses
    files: set[str] = field(default_factory=set)  # names of the files the page requested
    weight: int = 0  # bytes of every file the page loaded, uncompressed


@pytest.fixture(scope="module")
def base_url():
    """The book served on a free port of 127.0.0.1 by a thread of this process."""
    if not BUILT:
        pytest.fail(f"no built book at {BOOK}: run `make book` first (these tests build nothing)", pytrace=False)
    with serve(BOOK) as url:
        yield url


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """Debian's Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser_context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
        yield browser_context
        browser_context.close()


@pytest.fixture
def visit(context, base_url):
    """Open a page offline, scroll through it, wait for the network and for saved widgets to be drawn."""
    opened = []

    def open_page(path: str) -> Visit:
        page = context.new_page()
        opened.append(page)
        record = Visit(page)

        def route(request_route):
            if request_route.request.url.startswith(base_url):
                record.files.add(request_route.request.url.split("?")[0].rsplit("/", 1)[-1])
                served = served_file(BOOK, request_route.request.url)
                record.weight += served.stat().st_size if served.is_file() else 0  # a missing file fails as HTTP 404
                request_route.continue_()
            else:
                record.outside.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        page.on("console", lambda message: record.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: record.errors.append(str(error)))
        page.on("response", lambda r: record.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
        page.goto(base_url + path)
        page.wait_for_load_state("networkidle")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        if page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count():
            page.wait_for_selector(".coursepack-widget", timeout=20_000)
        return record

    yield open_page
    for page in opened:
        page.close()


@pytest.mark.parametrize("path", book_pages(BOOK) if BUILT else ["index.html"])
def test_page_offline_drawn_and_accessible(visit, path):
    """Nothing leaves 127.0.0.1, no console error, charts drew with their controls, heavy JS only where used,
    the page loads under 2.0 MB in all, axe clean."""
    record = visit(path)
    page = record.page
    assert not record.outside, f"{path} requested other hosts: {record.outside}"
    assert record.weight < CHAPTER_LIMIT, f"{path} loads {record.weight:,} bytes (limit {CHAPTER_LIMIT:,})"
    assert not record.errors, f"{path} logged errors: {record.errors}"

    charts = page.locator(".coursepack-chart")
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.locator("svg.marks, canvas").count() == 1, f"chart {i + 1} on {path} drew nothing"
        assert chart.get_attribute("role") == "graphics-document"
        assert (chart.get_attribute("aria-label") or "").strip(), f"chart {i + 1} on {path} has no description"
        assert chart.locator(".role-title-text").count(), f"chart {i + 1} on {path} has no title"
        expected = int(chart.get_attribute("data-controls"))
        assert chart.locator(".vega-bind").count() == expected, f"chart {i + 1} on {path} lacks a control"
        wide, room = chart.evaluate("el => [el.scrollWidth, el.parentElement.clientWidth]")
        assert wide <= room, f"chart {i + 1} on {path} is {wide} px wide in a {room} px column (readers must scroll)"
    assert page.locator("svg.marks").count() == charts.count(), f"{path} has a chart not drawn by coursepack"
    if not charts.count():
        assert "vega.js" not in record.files, f"{path} has no chart but loads the chart bundle"
    if not page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count():
        assert "widgets.js" not in record.files, f"{path} has no widget but loads the widget viewer"

    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
               for v in results["violations"] if v["impact"] in ("critical", "serious")]
    assert not serious, f"axe on {path}: " + "; ".join(serious)


def test_moving_a_slider_changes_the_chart(visit):
    """On chapter 1, moving a chart's slider redraws the chart (no kernel involved)."""
    page = visit(CHAPTER_1).page
    chart = page.locator(".coursepack-chart", has=page.locator(".vega-bind input[type=range]")).first
    assert chart.count(), f"{CHAPTER_1} has no chart with a slider"
    slider = chart.locator(".vega-bind input[type=range]").first
    before = chart.locator("svg.marks").inner_html()
    low, high, now = (float(slider.get_attribute(a) or d) for a, d in (("min", 0), ("max", 100), ("value", 0)))
    slider.fill(str(low if now != low else high))
    page.wait_for_timeout(300)
    assert chart.locator("svg.marks").inner_html() != before, "the chart did not change when its slider moved"


def test_saved_widget_renders_a_working_control(visit):
    """Chapter 1's saved ipywidgets state renders a labelled slider whose readout follows the keyboard."""
    page = visit(CHAPTER_1).page
    widget = page.locator(".coursepack-widget").first
    slider = widget.locator("input[type=range]").first
    slider.wait_for(timeout=20_000)
    assert slider.evaluate("el => [...el.labels].map(l => l.textContent).join('')").strip(), "the widget slider has no label"
    readout = widget.locator(f"output[for='{slider.get_attribute('id')}']")
    before, shown = slider.input_value(), readout.text_content()
    slider.focus()
    page.keyboard.press("End" if before != slider.get_attribute("max") else "Home")
    assert slider.input_value() != before, "the widget slider did not move"
    assert readout.text_content() != shown, "the slider's readout did not follow it"
    assert slider.get_attribute("aria-valuetext") == readout.text_content()
    assert "running notebook" in widget.locator(".coursepack-widget-note").text_content()


def test_screenshot_chapter_1(visit):
    """Save a full-page screenshot of chapter 1 for people to look at."""
    page = visit(CHAPTER_1).page
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "chapter-01.png", full_page=True)
    assert (SCREENSHOTS / "chapter-01.png").stat().st_size > 10_000
