"""How a chapter reads, measured: the code a Colab or Jupyter reader sees in the notebook and
how much of it only builds sentences, and, on the built pages, the main text's length and the
page's height (what the lesson-first work of the book is judged by).

``python -m lt_helpers.tools.readability`` prints the notebook measures; with the built book's
folder (``_build/html``) it adds each page's words and height at 1280 px, measured in Debian's
Chromium through Playwright (the browser test's tools). ``--json FILE`` writes them.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import sys
from pathlib import Path

CHAPTERS = sorted((Path(__file__).resolve().parents[2] / "chapters").glob("0*.ipynb"))
_MAGIC = re.compile(r"^(\s*)([%!].*)$", re.M)
_DISPLAYS = {"Markdown", "HTML", "display_markdown", "Latex"}


def hidden(cell: dict) -> bool:
    """Does a reader in Colab (a form) and JupyterLab (source_hidden) see this code cell folded?"""
    meta = cell.get("metadata", {})
    return bool(meta.get("jupyter", {}).get("source_hidden")) and meta.get("cellView") == "form"


def visible_cells(notebook) -> list[str]:
    """The source of every code cell a Colab or Jupyter reader sees unfolded."""
    nb = json.loads(Path(notebook).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" and not hidden(c)]


def _wording(node: ast.AST, source: str) -> tuple[float, int]:
    """The share of a statement's characters inside its string literals, and how many words
    those literals hold."""
    segment = ast.get_source_segment(source, node) or ""
    literals = [ast.get_source_segment(source, n) or "" for n in ast.walk(node)
                if isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str)
                                                    and not _inside_fstring(n, node))]
    share = sum(len("".join(s.split())) for s in literals) / max(len("".join(segment.split())), 1)
    return share, sum(len(s.split()) for s in literals)


def _inside_fstring(const: ast.AST, root: ast.AST) -> bool:
    return any(isinstance(n, ast.JoinedStr) and const in ast.walk(n) for n in ast.walk(root))


def _prose_lines(body: list, source: str) -> set:
    """Line numbers of the statements in ``body`` whose job is text: a Markdown or HTML display,
    or a statement made mostly of string literals that hold a sentence (eight words or more: a
    claim's wording, a caption, a message)."""
    lines = set()
    for node in body:
        inner = [getattr(node, f) for f in ("body", "orelse", "finalbody", "handlers") if getattr(node, f, None)]
        if inner:
            lines |= _prose_lines([n for part in inner for n in part], source)
            continue
        calls = {n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
                 for n in ast.walk(node) if isinstance(n, ast.Call)}
        share, words = _wording(node, source)
        if calls & _DISPLAYS or (share >= 0.5 and words >= 8):
            lines |= set(range(node.lineno, node.end_lineno + 1))
    return lines


def code_lines(notebook) -> dict:
    """Visible code lines of a chapter (blank lines left out), how many of them only build
    prose, and how many run past 100 characters."""
    total = prose = long = 0
    for source in visible_cells(notebook):
        lines = source.splitlines()
        total += sum(1 for line in lines if line.strip())
        long += sum(1 for line in lines if len(line) > 100)
        code = _MAGIC.sub(lambda m: m.group(1) + "pass", source)
        prose += sum(1 for k in _prose_lines(ast.parse(code).body, code) if lines[k - 1].strip())
    return {"visible_code_lines": total, "prose_lines": prose, "prose_share": round(prose / max(total, 1), 3),
            "lines_over_100": long}


_PAGE = """() => {
  const main = document.querySelector('article.bd-article') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('details, .evidence, section[id^="exercises"], .cell_input, script, style, .toggle-details')
      .forEach(e => e.remove());
  const text = copy.innerText || copy.textContent;
  return {height: document.documentElement.scrollHeight,
          words: (text.match(/\\S+/g) || []).length,
          ci_95: (text.match(/95% CI/g) || []).length};
}"""


def pages(html: Path, width: int = 1280) -> dict:
    """Each chapter page's height at ``width`` px and the words of its main text, outside
    folds (details, the evidence), code and exercises, in Chromium."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        for nb in CHAPTERS:
            page.goto((html / "chapters" / f"{nb.stem}.html").resolve().as_uri())
            page.wait_for_load_state("load")
            out[nb.stem] = page.evaluate(_PAGE)
        browser.close()
    return out


def main(argv=None) -> int:
    """The command: print (and with ``--json`` write) every chapter's measures."""
    parser = argparse.ArgumentParser(prog="python -m lt_helpers.tools.readability", description=__doc__)
    parser.add_argument("html", nargs="?", type=Path, help="the built book (_build/html) for page measures")
    parser.add_argument("--json", type=Path, help="write the measures here")
    args = parser.parse_args(argv)
    measures = {nb.stem: code_lines(nb) for nb in CHAPTERS}
    if args.html is not None:
        for stem, page in pages(args.html).items():
            measures[stem].update(page)
    for stem, m in measures.items():
        print(stem, " ".join(f"{k}={v}" for k, v in m.items()))
    if args.json:
        args.json.write_text(json.dumps(measures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
