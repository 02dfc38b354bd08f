"""The altair renderers: what a chart's output is in the book build and in a live notebook.

:func:`use_renderer` (called by :mod:`coursepack.lessons.charts`) picks one. Both compile the chart's Vega-Lite to
Vega here, with the pinned vl-convert, so that accessibility fixes are applied once, in Python:

* the book (``COURSEPACK_BOOK=1``, set by :mod:`coursepack.book.assets` for the kernels it starts): a small
  output drawn by the page's shared Vega (``coursepackDraw``, see :mod:`coursepack.book.assets`);
* a live notebook (JupyterLab, nbval): a self-contained output carrying vl-convert's vega-embed bundle,
  since a student's machine has only the pip packages.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

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
    html = CHART_HTML.format(cls=CHART_CLASS, controls=bound_controls(spec), spec=compact)
    return {"text/html": html}


# The chart output in a live notebook (JupyterLab): self-contained, so it draws offline. JupyterLab runs
# output scripts in the page's global scope, so nothing here is declared globally (a second chart would
# fail on a redeclared const), the bundle runs only once per page, and arrow keys pressed on the chart's
# own controls stay with them instead of moving between notebook cells. vega-embed makes the element an
# inline block, as wide as what it holds; the full width of the output area is what the chart sizes itself to.
LIVE_HTML = """<div class="{cls}" data-controls="{controls}" style="width: 100%"></div>
<script type="text/javascript">
(function (spec, options) {{
  const el = document.currentScript.previousElementSibling;
  if (!window.vegaEmbed) {{ {bundle} }}
  el.addEventListener("keydown", e => {{ if (e.target.matches("input, select")) e.stopPropagation(); }});
  vegaEmbed(el, spec, options).catch(err => {{ el.textContent = "Chart error: " + err.message; throw err; }});
}})({spec}, {options});
</script>"""


def live_renderer(spec: dict, **metadata) -> dict:
    """Altair renderer for live notebooks: the chart bundle travels with the output (about 0.9 MB).

    The vega-embed "..." actions menu is off by default (it has no accessible name and offers
    downloads a class does not need); pass ``embed_options`` to change that.
    """
    options = {"actions": False, **metadata.get("embed_options", {})}
    html = LIVE_HTML.format(cls=CHART_CLASS, controls=bound_controls(spec), bundle=chart_bundle(),
                            spec=json.dumps(vega_spec(spec)), options=json.dumps(options))
    return {"text/html": html}


def use_renderer() -> str:
    """Enable the altair renderer for this context and return its name.

    In the book build (``COURSEPACK_BOOK=1``) charts use :func:`book_renderer`; anywhere else (JupyterLab,
    nbval) :func:`live_renderer`, which needs no CDN either.
    """
    import altair as alt

    name, renderer = ("coursepack-book", book_renderer) if os.environ.get(BOOK_ENV) == "1" else ("coursepack-live", live_renderer)
    alt.renderers.register(name, renderer)
    alt.renderers.enable(name)
    return name


def _vega_lite_version() -> str:
    import altair as alt

    return "v" + ".".join(alt.VEGALITE_VERSION.split(".")[:2])


@lru_cache(maxsize=1)
def chart_bundle() -> str:
    """vega + vega-lite + vega-embed from the pinned vl-convert, for live notebooks (which have no npm files).

    Making it takes seconds, so it is kept in the temporary folder, named by what it was made from:
    every later kernel reads it back instead.
    """
    import vl_convert

    made_from = f"vl-convert-python {vl_convert.__version__}, vega-lite {_vega_lite_version()}"
    cached = Path(tempfile.gettempdir()) / f"coursepack-chart-bundle-{hashlib.sha256(made_from.encode()).hexdigest()[:16]}.js"
    if cached.exists():
        return cached.read_text(encoding="utf-8")
    # The bundle declares top-level consts; the function scope keeps them from clashing with page scripts.
    text = f"/* {made_from} */\n(function () {{\n{vl_convert.javascript_bundle(vl_version=_vega_lite_version())}\n}})();\n"
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(cached)  # atomic: a reader never sees half a bundle
    return text
