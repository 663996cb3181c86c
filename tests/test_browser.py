"""Open every page of the built book in headless Chromium, as a reader would.

Checks: no traceback or error text, maths rendered by MathJax (no raw TeX), every image
loaded, no empty widget area, every internal link resolves. A screenshot of each page is
saved under ``_build/screenshots`` (``LT_ARTIFACTS`` overrides). The book's MathJax comes
from a CDN; offline, the test serves the same MathJax 3 files from the
``django-static-mathjax`` package instead.
"""

import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                 reason="Debian's chromium is not installed (apt-get install chromium)")]


@pytest.fixture(scope="module")
def server(book_html):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(book_html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _mathjax_dir() -> Path:
    import mathjax  # django-static-mathjax: MathJax 3's files

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _serve_mathjax(route):
    path = urllib.parse.urlparse(route.request.url).path.split("/es5/", 1)[1]
    file = _mathjax_dir() / path
    if file.exists():
        kind = "application/javascript" if file.suffix == ".js" else "font/woff2"
        route.fulfill(status=200, body=file.read_bytes(), headers={"Content-Type": kind})
    else:
        route.fulfill(status=404, body=b"")


def test_every_page_reads_well(book_html, server):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "CI must install Debian's chromium (see .ci/run)"
    shots = Path(os.environ.get("LT_ARTIFACTS", ROOT / "_build" / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    pages = sorted(p.relative_to(book_html).as_posix() for p in (book_html / "chapters").glob("*.html"))
    assert len(pages) >= 5
    problems, links = [], set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) or "mathjax" in r.request.url
                   else r.abort())  # nothing but the book and MathJax: no network here
        page.route("**/mathjax@3/es5/**", _serve_mathjax)  # routes registered last are tried first
        for name in pages:
            page.goto(f"{server}/{name}", wait_until="load")
            has_math = page.locator(".math").count() > 0
            if has_math:
                page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=20_000)
            text = page.inner_text("article")
            for bad in ("Traceback (most recent call last)", "Error:", "NameError", "\\theta_0", "$$"):
                if bad in text:
                    problems.append(f"{name}: shows {bad!r}")
            broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                                   ".map(i => i.src)")
            problems += [f"{name}: image not loaded: {src}" for src in broken]
            # figures: alt text for screen readers, and hi-DPI (2 image pixels per page pixel at least)
            figures = page.evaluate("() => [...document.querySelectorAll('.cell_output img')].map(i => "
                                    "[i.src, i.alt, i.naturalWidth, i.clientWidth])")
            problems += [f"{name}: figure without alt text: {src}" for src, alt, *_ in figures if not alt.strip()]
            problems += [f"{name}: figure at {nat / shown:.1f} image px per page px: {src}"
                         for src, _, nat, shown in figures if shown and nat < 1.9 * shown]
            empty = page.evaluate("() => [...document.querySelectorAll('.jupyter-widgets, .widget-area, "
                                  ".output_widget_view')].filter(e => e.innerText.trim() === '' && "
                                  "e.querySelectorAll('img,canvas,svg').length === 0).length")
            if empty:
                problems.append(f"{name}: {empty} empty widget area(s)")
            for href in page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)"):
                if href.startswith(server):
                    links.add(href.split("#")[0])
            page.screenshot(path=str(shots / (name.replace("/", "_") + ".png")), full_page=True)
        browser.close()
    for link in sorted(links):
        try:
            urllib.request.urlopen(link, timeout=10).close()
        except urllib.error.URLError as err:
            problems.append(f"broken internal link {link}: {err}")
    assert not problems, "\n".join(problems)
