"""The course pack's package: what chapters import (``lessons``), the book's build (``book``) and grading (``grading``).

Notebooks import the lesson modules from the top of the package::

    from coursepack import data, charts, widgets
"""
import importlib

from coursepack.lessons.data import DataError, as_of, load, load_all

#: The modules of ``coursepack.lessons`` that ``from coursepack import ...`` finds.
LESSONS = frozenset({"data", "charts", "widgets", "maps", "russia", "peninsula", "china", "forecasts"})

__all__ = ["DataError", "as_of", "load", "load_all"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``coursepack.charts`` and the other lesson modules, imported when first asked for.

    Imported late for speed: they load altair and ipywidgets, which neither the grader nor the book build's own
    process needs.
    """
    if name in LESSONS:
        return importlib.import_module(f"coursepack.lessons.{name}")
    msg = f"module 'coursepack' has no attribute {name!r}"
    raise AttributeError(msg)
