"""The built HTML book in a real browser: offline, drawn, interactive, accessible, and fit for a phone.

Serves the learner book (``_build/html``, or ``COURSEPACK_BOOK_HTML``) on 127.0.0.1, opens every page in
Debian's Chromium with every request to another host blocked and recorded, and checks that nothing
left the machine, nothing logged an error, every chart drew with its controls, widgets work, and axe-core
finds no critical or serious accessibility violation. Every page is opened on a desktop (1280x900) and on
a phone (390x844, touch, then narrowed to 320 px): the page never scrolls sideways and every chart, its
labels included, lies inside the screen. Builds nothing: run ``make book`` first.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import CHAPTER_LIMIT, CHROMIUM, book_pages, launch, serve, served_file

ROOT = Path(__file__).resolve().parent.parent
BOOK = Path(os.environ.get("COURSEPACK_BOOK_HTML", ROOT / "_build" / "html"))
AXE = ROOT / "vendor" / "axe-core" / "axe.min.js"  # kept in the repository (vendor/README.md)
CHAPTER_1 = "notebooks/01-the-deployment.html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
BUILT = (BOOK / "index.html").is_file()
PAGES = book_pages(BOOK) if BUILT else ["index.html"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
NARROWEST = {"width": 320, "height": 700}  # the narrowest phone a chart must fit
TOUCH_TARGET = 24  # pixels: WCAG 2.2's minimum target size (2.5.8)

# What keeps a page from fitting its screen: the page wider than the screen, a chart (or its drawing)
# reaching past either edge, or a visible label of a chart cut off at the drawing's edge.
FIT_PROBLEMS_JS = """() => {
  const width = document.documentElement.clientWidth, problems = [];
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide on a ${width} px screen`);
  }
  document.querySelectorAll('.coursepack-chart').forEach((chart, i) => {
    const drawing = chart.querySelector('svg.marks');
    for (const [what, el] of [['box', chart], ['drawing', drawing]]) {
      const r = el ? el.getBoundingClientRect() : null;
      if (r && (r.left < 0 || r.right > width + 0.5)) {
        problems.push(`chart ${i + 1}'s ${what} spans ${Math.round(r.left)} to ${Math.round(r.right)} px`);
      }
    }
    if (!drawing) return;
    const edge = drawing.getBoundingClientRect();
    drawing.querySelectorAll('text').forEach(text => {
      const r = text.getBoundingClientRect();
      const shown = r.width && text.textContent.trim() && !text.closest('[clip-path], [opacity="0"]');
      if (shown && (r.left < edge.left - 1 || r.right > edge.right + 1)) {
        problems.push(`chart ${i + 1}: "${text.textContent.slice(0, 40)}" is cut at its edge`);
      }
    });
  });
  return problems;
}"""

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
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def context(playwright, tmp_path_factory):
    """Debian's Chromium with a fresh profile, on a desktop screen (1280x900)."""
    browser_context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
    yield browser_context
    browser_context.close()


@pytest.fixture(scope="module")
def phone(playwright, tmp_path_factory):
    """Debian's Chromium with a fresh profile, as a phone: 390x844, a touch screen and no mouse."""
    browser_context = launch(playwright, tmp_path_factory.mktemp("chromium-phone-profile"), **PHONE)
    yield browser_context
    browser_context.close()


@pytest.fixture
def visit(context, base_url):
    """Open a page offline (on the desktop unless ``on`` says otherwise), scroll through it, wait for the
    network and for saved widgets to be drawn."""
    opened = []

    def open_page(path: str, on=context) -> Visit:
        page = on.new_page()
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


def assert_fits_the_screen(page, path: str) -> None:
    """The page does not scroll sideways and every chart lies inside the screen (waiting, within bounds,
    for charts to redraw after the window was resized)."""
    try:
        page.wait_for_function(f"({FIT_PROBLEMS_JS})().length === 0", timeout=5_000, polling=250)
    except PlaywrightTimeout:  # the assertion below says what does not fit
        pass
    problems = page.evaluate(FIT_PROBLEMS_JS)
    assert not problems, f"{path} at {page.viewport_size['width']} px wide: " + "; ".join(problems)


@pytest.mark.parametrize("path", PAGES)
def test_page_offline_drawn_and_accessible(visit, path):
    """Nothing leaves 127.0.0.1, no console error, charts drew with their controls, heavy JS only where used,
    the page loads under 2.0 MB in all, it fits a desktop screen, axe clean."""
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
    assert_fits_the_screen(page, path)
    if not charts.count():
        assert "vega.js" not in record.files, f"{path} has no chart but loads the chart bundle"
    if not page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count():
        assert "widgets.js" not in record.files, f"{path} has no widget but loads the widget viewer"

    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
               for v in results["violations"] if v["impact"] in ("critical", "serious")]
    assert not serious, f"axe on {path}: " + "; ".join(serious)


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_phone(visit, phone, path):
    """On a phone, 390 px wide and then 320, the page never scrolls sideways (wide tables scroll in their
    own boxes) and every chart is drawn inside the screen; every control bound to a chart is big enough to
    touch."""
    page = visit(path, on=phone).page
    assert_fits_the_screen(page, path)
    controls = page.locator(".coursepack-chart .vega-bind input, .coursepack-chart .vega-bind select")
    for i in range(controls.count()):
        box = controls.nth(i).bounding_box()
        assert min(box["width"], box["height"]) >= TOUCH_TARGET, (
            f"chart control {i + 1} on {path} is {box['width']:.0f}x{box['height']:.0f} px, too small to touch")
    page.set_viewport_size(NARROWEST)  # charts redraw to the new width
    assert_fits_the_screen(page, path)


def test_chart_controls_and_details_work_by_touch(visit, phone):
    """On a phone's touch screen, chapter 1: a tap on a point shows its details (as hovering does with a
    mouse), a tap on a chart's slider moves it and the chart redraws, and its menu changes the chart too."""
    page = visit(CHAPTER_1, on=phone).page
    timeline = page.locator(".coursepack-chart").first
    timeline.scroll_into_view_if_needed()
    points = timeline.locator(".mark-symbol path")
    uncovered = points.evaluate_all("""points => points.findIndex(p => { const r = p.getBoundingClientRect();
        return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === p; })""")
    points.nth(uncovered).tap()
    details = timeline.locator(".coursepack-tooltip")
    details.wait_for(state="visible", timeout=5_000)
    assert "What happened" in details.inner_text()

    chart = page.locator(".coursepack-chart", has=page.locator(".vega-bind input[type=range]")).first
    slider, menu = chart.locator(".vega-bind input[type=range]").first, chart.locator(".vega-bind select").first
    slider.scroll_into_view_if_needed()
    drawing = chart.locator("svg.marks")

    def redraws(touch) -> None:
        before = drawing.inner_html()
        touch()
        page.wait_for_function("([svg, before]) => svg.innerHTML !== before", arg=[drawing.element_handle(), before])

    value, middle = slider.input_value(), slider.bounding_box()["height"] / 2
    redraws(lambda: slider.tap(position={"x": 2, "y": middle}))  # the start of the slider
    assert slider.input_value() == slider.get_attribute("min") != value, "a tap did not move the slider"
    redraws(lambda: slider.tap(position={"x": slider.bounding_box()["width"] - 2, "y": middle}))  # its end
    assert slider.input_value() == slider.get_attribute("max")
    redraws(lambda: (menu.tap(), menu.select_option(index=1)))


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


@pytest.mark.parametrize("screen,name", [("desktop", "chapter-01.png"), ("phone", "chapter-01-phone.png")])
def test_screenshot_chapter_1(visit, context, phone, screen, name):
    """Save a full-page screenshot of chapter 1, on a desktop and on a phone, for people to look at."""
    page = visit(CHAPTER_1, on={"desktop": context, "phone": phone}[screen]).page
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)
    assert (SCREENSHOTS / name).stat().st_size > 10_000
