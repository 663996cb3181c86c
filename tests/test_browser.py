"""Open every page of the built book in headless Chromium, as a reader would, at a desktop's
1280 px and a phone's 390 px, with no network: the page must need nothing but the book.

Checks: no traceback or error text, maths rendered by MathJax (served by the book itself, no
raw TeX), every image loaded, figures drawn at their own aspect ratio, no empty widget area,
no request leaving the book, one search box on a desktop, no sideways scrolling on a phone,
every internal link resolves. A screenshot of each page at each width is saved under
``_build/screenshots`` (``LT_ARTIFACTS`` overrides).
"""

import functools
import http.server
import os
import shutil
import threading
import urllib.error
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
        outside = []  # anything a page asks of the network: an offline reader would wait on it and not get it
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server)
                   else (outside.append(r.request.url), r.abort()))
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
            problems += [f"{name}: figure at {nat / shown:.1f} image px per page px: {src[:80]}"
                         for src, _, nat, shown in figures if shown and nat < 1.9 * shown
                         and not src.startswith("data:image/svg+xml")]  # a diagram is vector: sharp at any size
            problems += _misshapen(page, name, "1280 px")
            cut = page.evaluate("() => { document.querySelectorAll('details').forEach(d => d.open = true); "
                                "const edge = document.querySelector('article').getBoundingClientRect().right; "
                                "return [...document.querySelectorAll('table.claims')].filter(t => "
                                "t.getBoundingClientRect().right > edge + 1).map(t => t.innerText.slice(0, 60)); }")
            problems += [f"{name}: a claims table is cut at 1280 px (wider than the text): {t!r}" for t in cut]
            searches = page.evaluate("() => [...document.querySelectorAll('.search-button-field, .bd-search')]"
                                     ".filter(e => e.offsetParent !== null).length")
            if searches != 1:
                problems.append(f"{name}: {searches} search boxes shown at 1280 px")
            empty = page.evaluate("() => [...document.querySelectorAll('.jupyter-widgets, .widget-area, "
                                  ".output_widget_view')].filter(e => e.innerText.trim() === '' && "
                                  "e.querySelectorAll('img,canvas,svg').length === 0).length")
            if empty:
                problems.append(f"{name}: {empty} empty widget area(s)")
            for href in page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)"):
                if href.startswith(server):
                    links.add(href.split("#")[0])
            page.screenshot(path=str(shots / (name.replace("/", "_") + ".png")), full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)  # layout: scale 1 is enough
        phone.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server)
                    else (outside.append(r.request.url), r.abort()))
        for name in pages:
            phone.goto(f"{server}/{name}", wait_until="load")
            wide = phone.evaluate("() => document.documentElement.scrollWidth")
            if wide > 390:
                problems.append(f"{name}: the page is {wide} px wide at a phone's 390 px: it scrolls sideways")
            problems += _misshapen(phone, name, "390 px")
            phone.screenshot(path=str(shots / (name.replace("/", "_") + "-390px.png")), full_page=True)
        browser.close()
    problems += [f"a page asked the network for {url}" for url in sorted(set(outside))]
    for link in sorted(links):
        try:
            urllib.request.urlopen(link, timeout=10).close()
        except urllib.error.URLError as err:
            problems.append(f"broken internal link {link}: {err}")
    assert not problems, "\n".join(problems)


def _misshapen(page, name: str, width: str) -> list[str]:
    """Figures drawn at another aspect ratio than their image's (by more than 2%)."""
    shapes = page.evaluate("() => [...document.querySelectorAll('.cell_output img')].filter(i => i.clientWidth)"
                           ".map(i => [i.src, i.naturalWidth, i.naturalHeight, i.clientWidth, i.clientHeight])")
    return [f"{name}: figure drawn {cw}×{ch} at {width}, its image is {nw}×{nh}: {src}"
            for src, nw, nh, cw, ch in shapes if nw and abs((ch / cw) / (nh / nw) - 1) > 0.02]
