"""Offline chart and widget assets for the HTML book, and the altair renderer for each context.

The book must load no file from a CDN (DESIGN.md, "Interactivity that works everywhere"). This module is
a Sphinx extension (``sphinx: extra_extensions: [coursepack.assets]`` in ``_config.yml``) that:

* writes the chart bundle (vega + vega-lite + vega-embed from the pinned ``vl-convert-python``), the
  widget JavaScript and fonts (require.js and ``@jupyter-widgets/html-manager`` from the npm lock file,
  installed by ``npm ci``) and ``book_static/`` into ``_static/coursepack/`` of the build output. Nothing
  generated is committed, and the folder is not in ``html_static_path``, so Jupyter Book does not add
  its scripts to every page;
* adds the chart bundle only to pages that contain a chart; myst-nb adds ``book_static/widgets.js``
  (``nb_ipywidgets_js``) only to pages with saved widget state, and it loads the widget manager;
* lightens and cleans the stock theme: ``templates/layout.html`` drops the 1.5 MB Font Awesome script
  and the search index from pages that do not search; a doubled sphinx-thebe script and an empty colour
  mode (two console errors) are fixed; ``book_static/coursepack.js`` and a citation role fix axe findings;
* sets ``COURSEPACK_BOOK=1`` for the kernels that execute the notebooks, so :func:`use_renderer` picks
  the small chart output that uses the shared bundle.

In a live notebook :func:`use_renderer` picks altair's self-contained ``inline`` template instead.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

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

# The chart output in the book: a div (saying how many input controls the chart binds, for the browser
# tests) and a call to the page's vegaEmbed once the deferred bundle has run.
CHART_HTML = """<div class="{cls}" data-controls="{controls}"></div>
<script type="text/javascript">
(function (spec, options) {{
  const el = document.currentScript.previousElementSibling;
  const draw = () => vegaEmbed(el, spec, options).catch(err => {{ el.textContent = "Chart error: " + err.message; throw err; }});
  if (window.vegaEmbed) draw(); else document.addEventListener("DOMContentLoaded", draw);
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


def use_renderer() -> str:
    """Enable the altair renderer for this context and return its name.

    In the book build (``COURSEPACK_BOOK=1``) charts use :func:`book_renderer`; anywhere else (JupyterLab,
    nbval) altair's ``html`` renderer with the ``inline`` template, which works offline in JupyterLab 4.
    """
    import altair as alt

    if os.environ.get(BOOK_ENV) == "1":
        alt.renderers.register("coursepack-book", book_renderer)
        alt.renderers.enable("coursepack-book")
        return "coursepack-book"
    alt.renderers.enable("html", template="inline")
    return "html-inline"


def chart_bundle() -> str:
    """vega + vega-lite (the version altair emits) + vega-embed in one script that defines only globals."""
    import altair as alt
    import vl_convert

    vl_version = "v" + ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    # The bundle declares top-level consts; the function scope keeps them from clashing with page scripts.
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    return f"/* vega, vega-lite {vl_version}, vega-embed: vl-convert-python {vl_convert.__version__} */\n(function () {{\n{bundle}\n}})();\n"


def prepare(static_dir: Path) -> None:
    """Write the chart bundle, the widget scripts and fonts, and ``book_static/`` into ``static_dir/coursepack``."""
    missing = [name for name in WIDGET_FILES if not (NODE_MODULES / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not found in {NODE_MODULES}: run `npm ci` at the repository root")
    folder = Path(static_dir) / STATIC
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vega.js").write_text(chart_bundle(), encoding="utf-8")
    copies = {NODE_MODULES / source: name for source, name in WIDGET_FILES.items()}
    copies.update({font: font.name for font in (NODE_MODULES / WIDGET_FONTS).glob("*.woff2")})
    copies.update({path: path.name for path in (HERE / "book_static").iterdir()})
    for source, name in copies.items():
        shutil.copyfile(source, folder / name)


def _config_inited(app, config) -> None:
    """Use the lighter page layout in ``templates/`` and give the theme a valid colour mode."""
    config.templates_path = [str(HERE / "templates"), *config.templates_path]
    # An empty colour mode makes the theme log an error on every page.
    config.html_context = {"default_mode": "auto", **config.html_context}


def _builder_inited(app) -> None:
    """Write the assets before the pages, into the output folder the HTML builders use."""
    if app.builder.format == "html":
        prepare(Path(app.outdir) / "_static")


def _page_context(app, pagename, templatename, context, doctree) -> None:
    """Drop doubled inline scripts; add the a11y fixes to every page and the chart bundle where charts are."""
    if app.builder.format != "html":
        return
    bodies, scripts = set(), []
    for script in context.get("script_files", []):
        body = None if script.filename else script.attributes.get("body")
        if body is not None and body in bodies:  # sphinx-thebe adds its inline config twice
            continue
        bodies.add(body)
        scripts.append(script)
    context["script_files"][:] = scripts
    if "body" in context:  # docutils marks citations "doc-biblioentry" in a role="list" (axe: critical)
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
    app.add_js_file(f"{STATIC}/coursepack.js", loading_method="defer")
    if f'class="{CHART_CLASS}"' in context.get("body", ""):
        app.add_js_file(CHART_BUNDLE, loading_method="defer")


def setup(app):
    """Register the extension with Sphinx."""
    os.environ[BOOK_ENV] = "1"  # inherited by the kernels myst-nb starts to execute the notebooks
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
