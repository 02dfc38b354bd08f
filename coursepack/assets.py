"""Offline chart and widget assets for the HTML book, and the altair renderer for each context.

The book must load no file from a CDN (DESIGN.md, "Interactivity that works everywhere"). This module is
a Sphinx extension (``sphinx: extra_extensions: [coursepack.assets]`` in ``_config.yml``) that:

* writes the chart bundle (vega + vega-lite + vega-embed from the pinned ``vl-convert-python``) and the
  widget JavaScript (require.js and ``@jupyter-widgets/html-manager`` from the npm lock file, installed
  by ``npm ci``) into ``_static/coursepack/`` of the build output. Nothing generated is committed, and
  the folder is not in ``html_static_path``, so Jupyter Book does not add its scripts to every page;
* adds the chart bundle only to pages that contain a chart (myst-nb adds the widget scripts, set by
  ``nb_ipywidgets_js``, only to pages with saved widget state);
* removes two console errors of the stock theme (a doubled sphinx-thebe script and an empty colour
  mode), drops the theme's 1.5 MB Font Awesome script (its icons also come from the web font in the
  theme CSS), and adds ``coursepack.css``/``coursepack.js`` accessibility fixes;
* sets ``COURSEPACK_BOOK=1`` for the kernels that execute the notebooks, so :func:`use_renderer` picks
  the small chart output that uses the shared bundle.

In a live notebook :func:`use_renderer` picks altair's self-contained ``inline`` template instead.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
HERE = Path(__file__).resolve().parent
BOOK_ENV = "COURSEPACK_BOOK"
STATIC = "coursepack"  # folder under the book's _static/
CHART_BUNDLE = f"{STATIC}/vega.js"
CHART_CLASS = "coursepack-chart"
WIDGET_FILES = {  # npm file -> name under _static/coursepack/
    "requirejs/require.js": "require.js",
    "@jupyter-widgets/html-manager/dist/embed-amd.js": "embed-amd.js",
}

# The chart output in the book: a div and a call to the page's vegaEmbed once the deferred bundle ran.
CHART_HTML = """<div class="{cls}"></div>
<script type="text/javascript">
(function (spec, options) {{
  const el = document.currentScript.previousElementSibling;
  const draw = () => vegaEmbed(el, spec, options).catch(err => {{ el.textContent = "Chart error: " + err.message; throw err; }});
  if (window.vegaEmbed) draw(); else document.addEventListener("DOMContentLoaded", draw);
}})({spec}, {options});
</script>"""


def book_renderer(spec: dict, **metadata) -> dict:
    """Altair renderer for the book build: small HTML that draws with the page's shared chart bundle.

    The vega-embed "..." actions menu is off by default (it has no accessible name and offers
    downloads the book does not need); pass ``embed_options`` to change that.
    """
    options = {"actions": False, **metadata.get("embed_options", {})}
    return {"text/html": CHART_HTML.format(cls=CHART_CLASS, spec=json.dumps(spec), options=json.dumps(options))}


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
    return f"/* vega, vega-lite {vl_version}, vega-embed from vl-convert-python {vl_convert.__version__} */\n" \
           f"(function () {{\n{vl_convert.javascript_bundle(vl_version=vl_version)}\n}})();\n"


def prepare(static_dir: Path) -> list[Path]:
    """Write the chart bundle, the widget scripts and the a11y fixes into ``static_dir/coursepack``."""
    missing = [name for name in WIDGET_FILES if not (NODE_MODULES / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not found under {NODE_MODULES}: run `npm ci` at the repository root")
    folder = Path(static_dir) / STATIC
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "vega.js"]
    written[0].write_text(chart_bundle(), encoding="utf-8")
    for source, name in WIDGET_FILES.items():
        written.append(Path(shutil.copyfile(NODE_MODULES / source, folder / name)))
    for name in ("coursepack.css", "coursepack.js"):
        written.append(Path(shutil.copyfile(HERE / "book_static" / name, folder / name)))
    return written


def _theme_templates(app, config) -> None:
    """Serve the theme's asset macros without the Font Awesome script (1.5 MB on every page)."""
    import pydata_sphinx_theme

    macros = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / "webpack-macros.html"
    text = re.sub(r"\s*<script defer src=\"[^\"]*fontawesome\.js[^\"]*\"></script>", "", macros.read_text(encoding="utf-8"))
    folder = Path(app.doctreedir).parent / "coursepack-templates"
    (folder / "static").mkdir(parents=True, exist_ok=True)
    (folder / "static" / "webpack-macros.html").write_text(text, encoding="utf-8")
    config.templates_path = [str(folder), *config.templates_path]
    # An empty colour mode makes the theme log an error on every page.
    config.html_theme_options = {"default_mode": "auto", **config.html_theme_options}


def _builder_inited(app) -> None:
    if app.builder.format == "html":
        prepare(Path(app.outdir) / "_static")


def _page_context(app, pagename, templatename, context, doctree) -> None:
    """Drop doubled inline scripts, add the a11y fixes everywhere and the chart bundle where charts are."""
    if app.builder.format != "html":
        return
    seen, scripts = set(), []
    for script in context.get("script_files", []):
        key = (script.filename, script.attributes.get("body"))
        if script.filename is None and key in seen:  # sphinx-thebe adds its config twice
            continue
        seen.add(key)
        scripts.append(script)
    context["script_files"] = scripts
    app.add_css_file(f"{STATIC}/coursepack.css")
    app.add_js_file(f"{STATIC}/coursepack.js", loading_method="defer")
    if f'class="{CHART_CLASS}"' in context.get("body", ""):
        app.add_js_file(CHART_BUNDLE, loading_method="defer")


def setup(app):
    """Register the extension with Sphinx."""
    os.environ[BOOK_ENV] = "1"  # inherited by the kernels myst-nb starts to execute the notebooks
    app.connect("config-inited", _theme_templates)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
