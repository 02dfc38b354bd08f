"""Maths in the HTML book as MathML, written at build time (``html_math_renderer: mathml`` in ``_config.yml``).

Browsers draw MathML themselves, and screen readers read it, so a page with a formula needs no script: MathJax
would add 1.2 MB and its fonts to such a page. The notebooks keep ordinary ``$...$`` and ``$$...$$`` TeX,
which JupyterLab renders with its own MathJax; latex2mathml converts it for the book.
"""
from __future__ import annotations

from docutils import nodes
from latex2mathml.converter import convert


def visit_math(self, node) -> None:
    """Inline ``$...$``: MathML in the running text."""
    self.body.append(convert(node.astext(), display="inline"))
    raise nodes.SkipNode


def visit_math_block(self, node) -> None:
    """Display ``$$...$$``: a centred MathML block."""
    self.body.append(f'<div class="math-block">{convert(node.astext(), display="block")}</div>\n')
    raise nodes.SkipNode


def setup(app):
    """Register the ``mathml`` renderer for Sphinx's HTML builders."""
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
