"""Shared helpers for the course pack: validated data, accessible charts, widgets, grading.

Notebooks import what they need::

    from coursepack import data, charts, widgets
"""
from coursepack.data import DataError, as_of, load, load_all

__all__ = ["DataError", "as_of", "load", "load_all"]
__version__ = "0.1.0"
