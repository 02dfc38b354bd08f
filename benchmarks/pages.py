"""Page weight of the built book, measured in the browser: ``python -m benchmarks.pages [HTML_DIR]``.

For every page of the book (default ``_build/html``) prints the bytes of HTML, JS, CSS, fonts and other
files the page loads, uncompressed and gzipped, once it has been scrolled to its end (so that anything
loaded late is counted too). Targets: a page without
charts loads no more than the stock theme does (2,381 kB), and every page, chapters and exercise sets
included, stays under 2.0 MB uncompressed in all; ``tests/test_browser.py`` enforces the second.
"""
from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from pathlib import Path

from tests.browser import CHAPTER_LIMIT, CHROMIUM, book_pages, launch, serve, served_file

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"document": "HTML", "script": "JS", "stylesheet": "CSS", "font": "fonts"}
COLUMNS = ["HTML", "JS", "CSS", "fonts", "other"]


def measure(context, book: Path, url: str) -> dict[str, list[int]]:
    """Bytes ``[uncompressed, gzip]`` per kind that the page at ``url`` loads, scrolled to its end.

    The browser says which files a page requests; their sizes are those of the files in ``book``.
    """
    page = context.new_page()
    origin = "/".join(url.split("/")[:3]) + "/"
    loaded = []  # (kind, file) for every request the page made
    # Routing also turns off the HTTP cache, so every page is weighed as on a first visit.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort())
    page.on("requestfinished", lambda request: loaded.append(
        (KINDS.get(request.resource_type, "other"), served_file(book, request.url))))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    count = -1
    while count != len(loaded):  # until no request has finished for a second
        count = len(loaded)
        page.wait_for_timeout(1000)
    page.close()
    sums = {kind: [0, 0] for kind in COLUMNS}
    for kind, file in loaded:
        body = file.read_bytes()
        sums[kind][0] += len(body)
        sums[kind][1] += len(gzip.compress(body, mtime=0))
    return sums


def kb(n: int) -> str:
    """Bytes as whole kilobytes (1000 bytes)."""
    return f"{n / 1000:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", nargs="?", type=Path, default=ROOT / "_build" / "html", help="built HTML folder")
    args = parser.parse_args(argv)
    if not (args.book / "index.html").is_file():
        print(f"no built book at {args.book}: run `make book` first", file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"the page bench needs Chromium at {CHROMIUM}: apt-get install chromium "
              "(or set COURSEPACK_CHROMIUM to a Chromium binary)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    header = f"{'page':50} " + " ".join(f"{c:>6}" for c in COLUMNS) + f" {'total kB':>9} {'gzip kB':>8}"
    print(header + "\n" + "-" * len(header))
    over = []
    with serve(args.book) as base, sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = launch(playwright, Path(profile))
        for path in book_pages(args.book):
            sums = measure(context, args.book, base + path)
            total, zipped = sum(v[0] for v in sums.values()), sum(v[1] for v in sums.values())
            cells = " ".join(f"{kb(sums[c][0]):>6}" for c in COLUMNS)
            print(f"{path:50} {cells} {kb(total):>9} {kb(zipped):>8}")
            if total >= CHAPTER_LIMIT:
                over.append(path)
        context.close()
    print("\nkB = 1000 bytes; columns are uncompressed except 'gzip kB'.")
    if over:
        print(f"over the {CHAPTER_LIMIT / 1e6:.1f} MB page target: {', '.join(over)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
