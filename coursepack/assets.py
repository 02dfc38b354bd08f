"""Offline chart and widget assets for the HTML book, and the altair renderer for each context.

The book must load no file from a CDN (DESIGN.md, "Interactivity that works everywhere"). This module is
a Sphinx extension (``sphinx: extra_extensions: [coursepack.assets]`` in ``_config.yml``) that:

* writes the chart bundle (vega + vega-lite + vega-embed from the pinned ``vl-convert-python``), the
  widget JavaScript and fonts (require.js and ``@jupyter-widgets/html-manager``) and MathJax, from the
  npm lock file (installed by ``npm ci``), and ``book_static/`` into ``_static/coursepack/``. Nothing
  generated is committed, and the folder is not in ``html_static_path``, so Jupyter Book does not add
  its scripts to every page;
* adds the chart bundle only to pages that contain a chart; myst-nb adds ``book_static/widgets.js``
  (``nb_ipywidgets_js``) only to pages with saved widget state, and it loads the widget manager;
* lightens and cleans the stock theme: ``templates/layout.html`` drops the 1.5 MB Font Awesome script
  and the search index from pages that do not search; a doubled sphinx-thebe script and an empty colour
  mode (two console errors) are fixed; ``book_static/coursepack.js`` and a citation role fix axe findings;
* sets ``COURSEPACK_BOOK=1`` for the kernels that execute the notebooks, so :func:`use_renderer` picks
  the small chart output that uses the shared bundle.

In a live notebook :func:`use_renderer` picks :func:`live_renderer`, whose output carries the bundle itself.
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
WIDGET_FILES = {  # npm file -> name under _static/coursepack/ (loaded by book_static/widgets.js)
    "requirejs/require.js": "require.js",
    "@jupyter-widgets/html-manager/dist/embed-amd.js": "embed-amd.js",
}
WIDGET_FONTS = "@jupyter-widgets/html-manager/dist"  # the manager's icon fonts (woff2 is all browsers need)
MATHJAX = "mathjax/es5"  # pages with math (``mathjax_path`` in _config.yml): the component and what it loads
MATHJAX_PARTS = ["tex-mml-chtml.js", "input", "output", "ui", "a11y", "sre"]

# Assets added to every page (the root page gets MathJax if any page has math) and what a page body must
# contain to need them.
ONLY_WHERE = {
    "tex-mml-chtml.js": r'class="math',
    "sphinx-design.min.css": r'class="[^"]*\bsd-',
    "design-tabs.js": r'class="[^"]*\bsd-tab',
}

# Appended to the chart bundle: vegaEmbed with the book's patch. Interval-selection brushes are controls,
# not data; Vega gives them an image role without a name (axe: svg-img-alt), so hide them from assistive tech.
EMBED_JS = """
window.coursepackEmbed = function (el, spec, options) {
  function hideBrushes(group) {
    (group.marks || []).forEach(function (mark) {
      if (/_brush(_bg)?$/.test(mark.name || "")) mark.aria = false;
      hideBrushes(mark);
    });
    return group;
  }
  return vegaEmbed(el, spec, Object.assign({ patch: hideBrushes }, options));
};
"""

# The chart output in the book: a div (saying how many input controls the chart binds, for the browser
# tests) and a call to the bundle's embed function once the deferred bundle has run.
CHART_HTML = """<div class="{cls}" data-controls="{controls}"></div>
<script type="text/javascript">
(function (spec, options) {{
  const el = document.currentScript.previousElementSibling;
  const draw = () => coursepackEmbed(el, spec, options).catch(err => {{ el.textContent = "Chart error: " + err.message; throw err; }});
  if (window.coursepackEmbed) draw(); else document.addEventListener("DOMContentLoaded", draw);
}})({spec}, {options});
</script>"""


def bound_controls(spec) -> int:
    """How many parameters in a Vega-Lite ``spec`` are bound to an input control (slider, select, ...)."""
    if isinstance(spec, list):
        return sum(bound_controls(item) for item in spec)
    if not isinstance(spec, dict):
        return 0
    own = sum(isinstance(p, dict) and isinstance(p.get("bind"), dict) and "input" in p["bind"] for p in spec.get("params", []))
    return own + sum(bound_controls(value) for key, value in spec.items() if key not in ("params", "data", "datasets"))


def book_renderer(spec: dict, **metadata) -> dict:
    """Altair renderer for the book build: small HTML that draws with the page's shared chart bundle.

    The vega-embed "..." actions menu is off by default (it has no accessible name and offers
    downloads the book does not need); pass ``embed_options`` to change that.
    """
    options = {"actions": False, **metadata.get("embed_options", {})}
    html = CHART_HTML.format(cls=CHART_CLASS, controls=bound_controls(spec), spec=json.dumps(spec), options=json.dumps(options))
    return {"text/html": html}


# The chart output in a live notebook (JupyterLab): self-contained, so it draws offline. JupyterLab runs
# output scripts in the page's global scope, so nothing here is declared globally (a second chart would
# fail on a redeclared const), the bundle runs only once per page, and arrow keys pressed on the chart's
# own controls stay with them instead of moving between notebook cells.
LIVE_HTML = """<div class="{cls}" data-controls="{controls}"></div>
<script type="text/javascript">
(function (spec, options) {{
  const el = document.currentScript.previousElementSibling;
  if (!window.coursepackEmbed) {{ {bundle} }}
  el.addEventListener("keydown", e => {{ if (e.target.matches("input, select")) e.stopPropagation(); }});
  coursepackEmbed(el, spec, options).catch(err => {{ el.textContent = "Chart error: " + err.message; throw err; }});
}})({spec}, {options});
</script>"""


def live_renderer(spec: dict, **metadata) -> dict:
    """Altair renderer for live notebooks: the chart bundle travels with the output (about 0.9 MB)."""
    options = {"actions": False, **metadata.get("embed_options", {})}
    html = LIVE_HTML.format(cls=CHART_CLASS, controls=bound_controls(spec), bundle=chart_bundle(),
                            spec=json.dumps(spec), options=json.dumps(options))
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


def bundle_header() -> str:
    """First line of the chart bundle: the versions it was made from (cheap, unlike the bundle itself)."""
    import vl_convert

    return f"/* vega, vega-lite {_vega_lite_version()}, vega-embed: vl-convert-python {vl_convert.__version__} */\n"


@lru_cache(maxsize=1)
def chart_bundle() -> str:
    """vega + vega-lite (the version altair emits) + vega-embed + ``coursepackEmbed`` in one script.

    Making it takes seconds, so it is kept in the temporary folder, named by what it was made from:
    every later kernel and build reads it back instead.
    """
    import vl_convert

    key = hashlib.sha256((bundle_header() + EMBED_JS).encode()).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / f"coursepack-chart-bundle-{key}.js"
    if cached.exists():
        return cached.read_text(encoding="utf-8")
    # The bundle declares top-level consts; the function scope keeps them from clashing with page scripts.
    bundle = vl_convert.javascript_bundle(vl_version=_vega_lite_version())
    text = f"{bundle_header()}(function () {{\n{bundle}\n}})();\n{EMBED_JS}"
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(cached)  # atomic: a reader never sees half a bundle
    return text


def prepare(static_dir: Path) -> None:
    """Write the chart bundle, widget scripts and fonts, MathJax and ``book_static/`` into ``static_dir/coursepack``."""
    missing = [name for name in [*WIDGET_FILES, MATHJAX] if not (NODE_MODULES / name).exists()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not found in {NODE_MODULES}: run `npm ci` at the repository root")
    folder = Path(static_dir) / STATIC
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / "vega.js"
    # Making the bundle takes seconds; a rebuild keeps the one made from the same versions and code.
    made = bundle.read_text(encoding="utf-8") if bundle.exists() else ""
    if not (made.startswith(bundle_header()) and made.endswith(EMBED_JS)):
        bundle.write_text(chart_bundle(), encoding="utf-8")
    copies = {NODE_MODULES / source: name for source, name in WIDGET_FILES.items()}
    copies.update({font: font.name for font in (NODE_MODULES / WIDGET_FONTS).glob("*.woff2")})
    copies.update({path: path.name for path in (HERE / "book_static").iterdir()})
    for source, name in copies.items():
        shutil.copyfile(source, folder / name)
    for part in MATHJAX_PARTS:
        source, target = NODE_MODULES / MATHJAX / part, folder / "mathjax" / part
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, target)


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
