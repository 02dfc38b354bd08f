"""The book's Sphinx extension: offline chart and widget assets, and a lighter, cleaner page theme.

The book must load no file from a CDN (DESIGN.md, "Interactivity that works everywhere"). This module is
a Sphinx extension (``sphinx: extra_extensions: [coursepack.book.assets]`` in ``_config.yml``) that:

* writes the chart bundle (Vega, kept with its licence in ``vendor/vega/``, plus ``book_static/draw.js``), Vega's
  licences and ``book_static/`` into ``_static/coursepack/``. Nothing generated is committed, and the folder is
  not in ``html_static_path``, so Jupyter Book does not add its scripts to every page;
* adds the chart bundle only to pages that contain a chart; myst-nb adds ``book_static/widgets.js``
  (``nb_ipywidgets_js``) only to pages with saved widget state, which it draws as plain HTML controls;
* lightens and cleans the stock theme: ``templates/layout.html`` drops the 1.5 MB Font Awesome script
  and the search index from pages that do not search; a doubled sphinx-thebe script and an empty colour
  mode (two console errors) are fixed; ``book_static/coursepack.js`` and a citation role fix axe findings,
  and ``book_static/coursepack.css`` keeps the page from scrolling sideways on a phone;
* sets ``COURSEPACK_BOOK=1`` for the kernels that execute the notebooks, so that
  :func:`coursepack.book.renderers.use_renderer` picks the book's chart output, which calls ``coursepackDraw``.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from sphinx.util import logging

from coursepack.book.renderers import BOOK_ENV, CHART_CLASS

LOGGER = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STATIC = "coursepack"  # folder under the book's _static/
CHART_BUNDLE = f"{STATIC}/vega.js"
# Vega as published on npm, kept in the repository (vendor/README.md) so that building the book needs no
# Node.js; the version vl-convert compiles for (tests/test_renderers.py).
VEGA = ROOT / "vendor" / "vega"

# Assets added to every page and what a page body must contain to need them.
ONLY_WHERE = {
    "sphinx-design.min.css": r'class="[^"]*\bsd-',
    "design-tabs.js": r'class="[^"]*\bsd-tab',
}

# Appended to Vega in the book's chart bundle: ``coursepackDraw``, which draws a compiled Vega spec.
DRAW_JS = HERE / "book_static" / "draw.js"

def prepare(static_dir: Path) -> None:
    """Write the chart bundle (Vega and ``coursepackDraw``), Vega's licences and ``book_static/`` into
    ``static_dir/coursepack``."""
    folder = Path(static_dir) / STATIC
    shutil.rmtree(folder, ignore_errors=True)  # nothing left over from an older build is served
    folder.mkdir(parents=True)
    bundle = (VEGA / "vega.min.js").read_text(encoding="utf-8") + "\n" + DRAW_JS.read_text(encoding="utf-8")
    (folder / "vega.js").write_text(bundle, encoding="utf-8")
    # Vega's licences travel with the bundle; no page loads them.
    shutil.copyfile(VEGA / "LICENSE", folder / "vega-LICENSE.txt")
    shutil.copyfile(VEGA / "THIRD-PARTY-NOTICES.txt", folder / "vega-THIRD-PARTY-NOTICES.txt")
    for path in (HERE / "book_static").iterdir():
        if path != DRAW_JS:  # served inside the chart bundle only
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
    app.add_css_file(f"{STATIC}/coursepack.css")
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
