"""What a chapter shows its reader around the experiment: the picture of an idea, the Summary
in words, and the Evidence folded beneath it.

* :func:`diagram`: a concept diagram (an SVG in ``lt_helpers/diagrams``, shipped with the
  package, so it draws the same in the book, in Jupyter and in Colab; its ``<title>`` is the
  alt text a screen reader speaks).
* :func:`summary`: a chapter's closing bullets, in words.
* :func:`evidence`: the claims tables, level scans and intervals behind the summary, in one
  block that opens with a click (HTML ``<details>``), never deleted.
"""

from __future__ import annotations

import base64
import html
import re
from importlib import resources

from .errors import LTError

__all__ = ["diagram", "diagrams", "summary", "evidence", "sides"]

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def diagrams() -> list[str]:
    """The names of the diagrams the package ships."""
    return sorted(p.name[:-4] for p in resources.files(__package__).joinpath("diagrams").iterdir()
                  if p.name.endswith(".svg"))


def diagram(name: str):
    """The diagram ``name`` as an image with its alt text, at most 520 px wide (its drawn size)
    and narrower on a phone."""
    from IPython.display import HTML

    if name not in diagrams():
        raise LTError(f"no diagram {name!r}: the package has {', '.join(diagrams())}")
    svg = resources.files(__package__).joinpath("diagrams", f"{name}.svg").read_bytes()
    alt = html.escape(" ".join(_TITLE.search(svg.decode()).group(1).split()), quote=True)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return HTML(f'<img class="lt-diagram" src="{uri}" alt="{alt}" style="width:100%;max-width:520px">')


def summary(bullets: list[str]):
    """A chapter's Summary: one bullet per point, in words (the intervals live in the evidence)."""
    from IPython.display import Markdown

    return Markdown("\n".join(f"* {b}" for b in bullets))


def evidence(*parts, title: str = "Evidence: the claims tested, with their intervals"):
    """``parts`` (Markdown text, or tables: a pandas Styler or DataFrame) in one block that opens
    with a click, in the book, Jupyter and Colab alike. Tables of claims stack their cells on
    a phone (the book's CSS, class ``claims``)."""
    from IPython.display import Markdown

    blocks = []
    for part in parts:
        if hasattr(part, "to_html"):  # a table: raw HTML, without blank lines (they end an HTML block)
            blocks.append("\n".join(line for line in part.to_html().splitlines() if line.strip()))
        else:
            blocks.append(str(part))
    return Markdown(f'<details class="evidence"><summary>{title}</summary>\n\n' + "\n\n".join(blocks)
                    + "\n\n</details>")


def sides(a, b, more: str, less: str, same: str = "not clearly different") -> str:
    """Paired samples ``a`` against ``b`` in words: 'clearly <more>', 'clearly <less>' or ``same``
    (the 95% interval decides; the interval itself belongs in the evidence)."""
    from .stats import paired

    p = paired(a, b)
    return f"clearly {more}" if p.above else f"clearly {less}" if p.below else same
