"""Offline chart and widget assets for the HTML book, and the altair renderer for each context.

The book must load no file from a CDN (DESIGN.md, "Interactivity that works everywhere"). This module is
a Sphinx extension (``sphinx: extra_extensions: [coursepack.assets]`` in ``_config.yml``) that:

* writes the chart bundle (Vega from the npm lock file, installed by ``npm ci``, plus ``coursepackDraw``)
  and ``book_static/`` into ``_static/coursepack/``. Nothing generated is committed, and the folder is not
  in ``html_static_path``, so Jupyter Book does not add its scripts to every page;
* adds the chart bundle only to pages that contain a chart; myst-nb adds ``book_static/widgets.js``
  (``nb_ipywidgets_js``) only to pages with saved widget state, which it draws as plain HTML controls;
* lightens and cleans the stock theme: ``templates/layout.html`` drops the 1.5 MB Font Awesome script
  and the search index from pages that do not search; a doubled sphinx-thebe script and an empty colour
  mode (two console errors) are fixed; ``book_static/coursepack.js`` and a citation role fix axe findings;
* sets ``COURSEPACK_BOOK=1`` for the kernels that execute the notebooks, so :func:`use_renderer` picks
  the book's chart output: the chart compiled to Vega at build time, drawn by the page's shared Vega.

In a live notebook :func:`use_renderer` picks :func:`live_renderer`, whose output carries its bundle itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
HERE = Path(__file__).resolve().parent
BOOK_ENV = "COURSEPACK_BOOK"
STATIC = "coursepack"  # folder under the book's _static/
CHART_BUNDLE = f"{STATIC}/vega.js"
CHART_CLASS = "coursepack-chart"
VEGA = "vega/build/vega.min.js"  # npm, pinned to the Vega that vl-convert compiles for (tests/test_book.py)

# Assets added to every page and what a page body must contain to need them.
ONLY_WHERE = {
    "sphinx-design.min.css": r'class="[^"]*\bsd-',
    "design-tabs.js": r'class="[^"]*\bsd-tab',
}

# Appended to Vega in the book's chart bundle: draw a compiled Vega spec into an element as SVG. Vega puts
# the chart's bound controls (sliders, menus) in a ``.vega-bindings`` block inside the same element.
DRAW_JS = """
window.coursepackDraw = function (el, spec) {
  return new vega.View(vega.parse(spec), { container: el, renderer: "svg", hover: true }).runAsync();
};
"""

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


def vega_spec(spec: dict) -> dict:
    """Compile a Vega-Lite ``spec`` to Vega with the pinned vl-convert (the Vega-Lite version altair emits)."""
    import vl_convert

    return hide_brushes(vl_convert.vegalite_to_vega(spec, vl_version=_vega_lite_version()))


def book_renderer(spec: dict, **metadata) -> dict:
    """Altair renderer for the book build: the chart compiled to Vega, drawn by the page's shared Vega.

    Compiling here means the page needs Vega only (0.5 MB), not Vega-Lite and vega-embed as well.
    """
    html = CHART_HTML.format(cls=CHART_CLASS, controls=bound_controls(spec), spec=json.dumps(vega_spec(spec)))
    return {"text/html": html}


# The chart output in a live notebook (JupyterLab): self-contained, so it draws offline. JupyterLab runs
# output scripts in the page's global scope, so nothing here is declared globally (a second chart would
# fail on a redeclared const), the bundle runs only once per page, and arrow keys pressed on the chart's
# own controls stay with them instead of moving between notebook cells.
LIVE_HTML = """<div class="{cls}" data-controls="{controls}"></div>
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


def prepare(static_dir: Path) -> None:
    """Write the chart bundle (Vega and ``coursepackDraw``) and ``book_static/`` into ``static_dir/coursepack``."""
    vega = NODE_MODULES / VEGA
    if not vega.is_file():
        raise FileNotFoundError(f"{VEGA} not found in {NODE_MODULES}: run `npm ci` at the repository root")
    folder = Path(static_dir) / STATIC
    shutil.rmtree(folder, ignore_errors=True)  # nothing left over from an older build is served
    folder.mkdir(parents=True)
    (folder / "vega.js").write_text(vega.read_text(encoding="utf-8") + DRAW_JS, encoding="utf-8")
    for path in (HERE / "book_static").iterdir():
        shutil.copyfile(path, folder / path.name)


def _config_inited(app, config) -> None:
    """Use the lighter page layout in ``templates/`` and give the theme a valid colour mode."""
    config.templates_path = [str(HERE / "templates"), *config.templates_path]
    # An empty colour mode makes the theme log an error on every page.
    config.html_context = {"default_mode": "auto", **config.html_context}


def _builder_inited(app) -> None:
    """Write the assets before the pages, into the output folder the HTML builders use."""
    if app.builder.format == "html":
        prepare(Path(app.outdir) / "_static")


def _needed(asset, body: str) -> bool:
    """False for an asset added to every page whose page body does not use it (see ONLY_WHERE)."""
    name = str(asset.filename or "").split("?")[0].rsplit("/", 1)[-1]
    return name not in ONLY_WHERE or re.search(ONLY_WHERE[name], body) is not None


def _page_context(app, pagename, templatename, context, doctree) -> None:
    """Trim and fix the page's assets; add the a11y fixes to every page and the chart bundle where charts are."""
    if app.builder.format != "html":
        return
    body = context.get("body", "")
    bodies, scripts = set(), []
    for script in context["script_files"]:
        inline = None if script.filename else script.attributes.get("body")
        if inline is not None and inline in bodies:  # sphinx-thebe adds its inline config twice
            continue
        bodies.add(inline)
        if _needed(script, body):
            scripts.append(script)
    context["script_files"][:] = scripts
    context["css_files"][:] = [css for css in context["css_files"] if _needed(css, body)]
    if "body" in context:  # docutils marks citations "doc-biblioentry" in a role="list" (axe: critical)
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')
    app.add_js_file(f"{STATIC}/coursepack.js", loading_method="defer")
    if f'class="{CHART_CLASS}"' in body:
        app.add_js_file(CHART_BUNDLE, loading_method="defer")
    if 'id="altair-viz-' in body:  # altair's own output: it loads vega from a CDN or inlines 0.9 MB
        LOGGER.warning("%s: a chart was not rendered for the book; import coursepack.charts before charting, "
                       "and delete the execution cache if it holds outputs from before", pagename,
                       type="coursepack", subtype="chart")


def setup(app):
    """Register the extension with Sphinx."""
    os.environ[BOOK_ENV] = "1"  # inherited by the kernels myst-nb starts to execute the notebooks
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context, priority=900)  # after the other extensions add theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
