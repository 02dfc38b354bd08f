"""Benchmarks (not timed tests) run by ``make bench``, ``make bench-grade`` and ``make bench-pages``."""
