"""Debian's Chromium and a local server for the built book, shared by the browser tests and the page benchmark."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Debian's Chromium (apt-get install chromium); COURSEPACK_CHROMIUM names another Chromium binary.
CHROMIUM = Path(os.environ.get("COURSEPACK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHAPTER_LIMIT = 2_000_000  #: bytes any page of the book may load in all, uncompressed


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that keeps the console free of access logs."""

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free port of 127.0.0.1 from a thread; yield the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def launch(playwright, profile: Path, **options):
    """Debian's Chromium with a fresh profile (Playwright's own browsers are never downloaded)."""
    options = {"viewport": {"width": 1280, "height": 900}, **options}
    return playwright.chromium.launch_persistent_context(
        profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, **options)


def book_pages(book: Path) -> list[str]:
    """Every HTML page of a built book, relative to its root (theme templates under _static excluded)."""
    return sorted(p.relative_to(book).as_posix() for p in book.rglob("*.html") if "_static" not in p.parts)


def served_file(book: Path, url: str) -> Path:
    """The file in ``book`` that the local server sends for ``url``."""
    return book / (unquote(urlsplit(url).path).lstrip("/") or "index.html")
