"""The altair renderers: what a chart's output is in the book build and in a live notebook.

:func:`use_renderer` (called by :mod:`coursepack.lessons.charts`) picks one. Both compile the chart's Vega-Lite to
Vega here, with the pinned vl-convert, so that accessibility fixes are applied once, in Python:

* the book (``COURSEPACK_BOOK=1``, set by :mod:`coursepack.book.assets` for the kernels it starts): a small
  output drawn by the page's shared Vega (``coursepackDraw``, see :mod:`coursepack.book.assets`);
* a live notebook (JupyterLab, nbval): the compiled spec under the mimetype JupyterLab's own Vega renderer
  draws, so a saved notebook keeps each chart in a few kilobytes and draws it offline when reopened.
"""
from __future__ import annotations

import html
import json
import os
import re

BOOK_ENV = "COURSEPACK_BOOK"
CHART_CLASS = "coursepack-chart"
#: The widest a chart is drawn, labels included: the book's text column at its widest (790 px). Charts take
#: the width of the element they are drawn in (see :func:`coursepack.charts.fill_width`) up to this.
WIDEST = 790
#: That width as a Vega expression; where there is no element (an exported image), the widest.
CONTAINER_WIDTH = f"isFinite(containerSize()[0]) ? min(containerSize()[0], {WIDEST}) : {WIDEST}"

# The chart output in the book: a div (saying how many input controls the chart binds, for the browser
# tests) and a call to the bundle's draw function once the deferred bundle has run.
CHART_HTML = """<div class="{cls}" data-controls="{controls}"></div>
<script type="text/javascript">
(function (spec) {{
  const el = document.currentScript.previousElementSibling;
  const draw = () => coursepackDraw(el, spec).catch(err => {{ el.textContent = "Chart error: " + err.message; throw err; }});
  if (window.coursepackDraw) draw(); else document.addEventListener("DOMContentLoaded", draw);
}})({spec});
</script>"""


def bound_controls(spec) -> int:
    """How many parameters in a Vega-Lite ``spec`` are bound to an input control (slider, select, ...)."""
    if isinstance(spec, list):
        return sum(bound_controls(item) for item in spec)
    if not isinstance(spec, dict):
        return 0
    own = sum(isinstance(p, dict) and isinstance(p.get("bind"), dict) and "input" in p["bind"] for p in spec.get("params", []))
    return own + sum(bound_controls(value) for key, value in spec.items() if key not in ("params", "data", "datasets"))


def hide_brushes(group: dict) -> dict:
    """Hide interval-selection brushes from assistive technology, in place; return ``group``.

    A brush is a control, not data, yet Vega gives its marks an image role without a name (axe: svg-img-alt).
    """
    for mark in group.get("marks", []):
        if re.search(r"_brush(_bg)?$", mark.get("name", "")):
            mark["aria"] = False
        hide_brushes(mark)
    return group


def follow_container(spec: dict) -> dict:
    """Size a chart from the element it is drawn in, up to :data:`WIDEST`, and again when the window is
    resized, in place; return ``spec``.

    Vega-Lite's container width follows the element however wide it is (a notebook's output area can be
    1,500 px) and falls back to 300 px where there is no element: here it is :data:`CONTAINER_WIDTH`. A
    parameter computed from the element's size (``charts.CHART_WIDTH``) is computed again on resizing too.
    """
    for signal in spec.get("signals", []):
        if "containerSize()[0]" in signal.get("init", ""):  # Vega-Lite's width, its "on" the resize
            signal["init"] = CONTAINER_WIDTH
            for handler in signal.get("on", []):
                handler["update"] = CONTAINER_WIDTH
        elif "containerSize()" in signal.get("update", ""):
            signal.setdefault("on", []).append({"events": "window:resize", "update": signal["update"]})
    return spec


def vega_spec(spec: dict) -> dict:
    """Compile a Vega-Lite ``spec`` to Vega with the pinned vl-convert (the Vega-Lite version altair emits)."""
    import vl_convert

    return follow_container(hide_brushes(vl_convert.vegalite_to_vega(spec, vl_version=_vega_lite_version())))


def book_renderer(spec: dict, **metadata) -> dict:
    """Altair renderer for the book build: the chart compiled to Vega, drawn by the page's shared Vega.

    Compiling here means the page needs Vega only (0.5 MB), not Vega-Lite and vega-embed as well.
    """
    compact = json.dumps(vega_spec(spec), separators=(",", ":"))  # the page carries every chart's spec
    output = CHART_HTML.format(cls=CHART_CLASS, controls=bound_controls(spec), spec=compact)
    return {"text/html": output + data_block(spec)}


#: Rows shown in a chart's data block: every row of the charts in the book (the longest has 101).
DATA_BLOCK_ROWS = 300


def data_block(spec: dict, summary: str = "Data behind this chart") -> str:
    """The data a chart draws, as a collapsed HTML table: reachable by keyboard and screen readers, and readable
    without telling colours apart. The table is the chart's largest dataset, in the columns its encodings use."""
    datasets = [rows for rows in [*spec.get("datasets", {}).values(), *inline_values(spec)]
                if isinstance(rows, list) and rows and isinstance(rows[0], dict)]
    if not datasets:
        return ""
    rows = max(datasets, key=len)
    columns = [field for field in dict.fromkeys(encoded_fields(spec)) if field in rows[0]] or list(rows[0])
    head = "".join(f'<th scope="col">{html.escape(column)}</th>' for column in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell_text(row.get(column)))}</td>" for column in columns) + "</tr>"
                   for row in rows[:DATA_BLOCK_ROWS])
    title = chart_text(spec).splitlines()[0].removeprefix("Chart").removeprefix(": ")
    caption = f"The data drawn in the chart \u201c{title}\u201d" if title else "The data this chart draws"
    more = f"<p>The first {DATA_BLOCK_ROWS} of {len(rows)} rows.</p>" if len(rows) > DATA_BLOCK_ROWS else ""
    return (f'\n<details class="coursepack-data"><summary>{html.escape(summary)}</summary>'
            f'<div class="coursepack-data-table" style="max-height: 24rem; overflow: auto"><table><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{more}</details>")


def inline_values(spec) -> list:
    """Every ``data: {values: ...}`` written inline in a spec (altair gathers data frames into ``datasets``)."""
    if isinstance(spec, list):
        return [found for item in spec for found in inline_values(item)]
    if not isinstance(spec, dict):
        return []
    own = [spec["data"]["values"]] if isinstance(spec.get("data"), dict) and "values" in spec["data"] else []
    return own + [found for key, value in spec.items() if key != "datasets" for found in inline_values(value)]


def encoded_fields(spec) -> list[str]:
    """Every field a chart's encodings name, in the order they appear (``x``, ``y``, colour, tooltips ...)."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "field" and isinstance(value, str):
                found.append(value)
            else:
                found += encoded_fields(value)
    elif isinstance(spec, list):
        for value in spec:
            found += encoded_fields(value)
    return found


def cell_text(value) -> str:
    """A table cell: numbers without float noise, dates as days, nothing for missing values."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00(\.000)?", value):
        return value[:10]
    return str(value)


# The chart output in a live notebook (JupyterLab): the compiled Vega spec under the mimetype of JupyterLab's
# built-in Vega renderer (@jupyterlab/vega5-extension, which draws Vega 5 and Vega-Lite 3 to 5: altair 6 emits
# Vega-Lite 6, so the Vega that vl-convert compiles it to is what JupyterLab can draw). A saved chart is its
# spec (kilobytes), drawn again offline whenever the notebook is opened, without running it.
VEGA_MIMETYPE = "application/vnd.vega.v5+json"
#: JupyterLab's renderer stores a PNG of each drawing in the notebook (about 100 kB a chart) unless the output
#: already has one: this transparent pixel stands in for it (JupyterLab prefers the Vega to any image).
PLACEHOLDER_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


#: The width of a chart in JupyterLab (a Vega expression). JupyterLab's renderer draws into vega-embed's
#: element, an inline block as wide as what it holds, so the container's size says nothing: the chart takes
#: the window's width less JupyterLab's bars and the cell's prompt (about 200 pixels; about 120 in a window
#: under 760 pixels, where JupyterLab narrows them), up to :data:`WIDEST`.
LIVE_WIDTH = f"max(150, min(windowSize()[0] - (windowSize()[0] < 760 ? 120 : 200), {WIDEST}))"


def live_spec(spec: dict) -> dict:
    """The Vega spec of a chart in JupyterLab: :func:`vega_spec`, sized from the window (:data:`LIVE_WIDTH`)."""
    text = json.dumps(vega_spec(spec))
    return json.loads(text.replace(json.dumps(CONTAINER_WIDTH)[1:-1], LIVE_WIDTH))


def live_renderer(spec: dict, **metadata) -> tuple[dict, dict]:
    """Altair renderer for live notebooks: the chart compiled to Vega, drawn by JupyterLab itself.

    The text of the output is the chart's title and description, for readers and viewers that draw no
    Vega. Charts are drawn as SVG, which carries their accessible name and description. The vega-embed "..." actions menu is off by default (it has no accessible name and offers
    downloads a class does not need); pass ``embed_options`` to change that.
    """
    options = {"actions": False, "renderer": "svg", **metadata.get("embed_options", {})}
    show_data_block(spec)
    compiled = live_spec(spec)
    bundle = {VEGA_MIMETYPE: compiled, "image/png": PLACEHOLDER_PNG, "text/plain": chart_text(spec)}
    return bundle, {VEGA_MIMETYPE: {"embed_options": options}}


#: What the live data block's summary says: it is shown just above its chart (see :func:`show_data_block`).
LIVE_DATA_SUMMARY = "Data behind the chart below"


def show_data_block(spec: dict) -> None:
    """In a running notebook, show the chart's data block as an output of its own, just above the chart.

    A notebook output shows one format only (JupyterLab draws the Vega and ignores any HTML beside it), so the
    table cannot travel in the chart's own output; it is displayed while the chart's output is being made,
    which puts it first.
    """
    from IPython import get_ipython
    from IPython.display import HTML, display

    block = data_block(spec, summary=LIVE_DATA_SUMMARY)
    if block and get_ipython() is not None:
        display(HTML(block.strip()))


def chart_text(spec: dict) -> str:
    """The chart's title and description as plain text (what a viewer without Vega shows)."""
    title = spec.get("title", "")
    if isinstance(title, dict):
        title = title.get("text", "")
    if isinstance(title, dict):  # a title that depends on the width: its one-line form
        title = ""
    if isinstance(title, list):
        title = " ".join(title)
    description = spec.get("description", "")
    return "\n".join(part for part in (f"Chart: {title}" if title else "Chart", description) if part)


def use_renderer() -> str:
    """Enable the altair renderer for this context and return its name.

    In the book build (``COURSEPACK_BOOK=1``) charts use :func:`book_renderer`; anywhere else (JupyterLab,
    nbval) :func:`live_renderer`, drawn by JupyterLab's own Vega: neither needs a CDN.
    """
    import altair as alt

    name, renderer = ("coursepack-book", book_renderer) if os.environ.get(BOOK_ENV) == "1" else ("coursepack-live", live_renderer)
    alt.renderers.register(name, renderer)
    alt.renderers.enable(name)
    return name


def _vega_lite_version() -> str:
    import altair as alt

    return "v" + ".".join(alt.VEGALITE_VERSION.split(".")[:2])
