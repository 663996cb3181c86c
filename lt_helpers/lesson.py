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

__all__ = ["diagram", "diagrams", "summary", "evidence", "clearly", "table"]

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


_HEAD = re.compile(r'<th[^>]*class="col_heading level0 (col\d+)"[^>]*>(.*?)</th>', re.S)


def _labelled(table_html: str) -> str:
    """A table's HTML with every cell labelled by its column (``data-label``), so that on a phone,
    where the book's CSS stacks the cells, each still says what it is; without blank lines (in
    Markdown they would end the HTML block)."""
    heads = {col: html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for col, text in _HEAD.findall(table_html)}
    out = re.sub(r'<td ([^>]*class="data row\d+ (col\d+)")',
                 lambda m: f'<td data-label="{html.escape(heads.get(m.group(2), ""), quote=True)}" {m.group(1)}',
                 table_html)
    return "\n".join(line for line in out.splitlines() if line.strip())


def table(styled):
    """A table (a pandas Styler of the book's claims tables) as HTML whose cells stack, labelled, on
    a phone."""
    from IPython.display import HTML

    return HTML(_labelled(styled.to_html()))


LEGEND = ("*Reproduced*: the run shows the paper's result; *inconclusive*: with this many trials it cannot "
          "decide; *not reproduced*: any effect is smaller than the paper's; *contradicted*: clearly the "
          "opposite; *not testable*: the run cannot tell (most networks in one of the groups compared were "
          "still improving when training stopped, or a few were and a gain within the trials' own spread "
          "would change the verdict; a network diverged; or there was one trial).")


def summary(bullets: list[str]):
    """A chapter's Summary: one bullet per point, in words (the intervals live in the evidence);
    where it uses the verdict words, a line under it says what each means."""
    from IPython.display import Markdown

    from .verdicts import WORDS

    text = "\n".join(f"* {b}" for b in bullets)
    used = any(f"*{w}*" in text for w in WORDS)
    return Markdown(text + (f"\n\n{LEGEND}" if used else ""))


def evidence(*parts, title: str = "Evidence: the claims tested, with their intervals"):
    """``parts`` (Markdown text, or tables: a pandas Styler or DataFrame) in one block that opens
    with a click, in the book, Jupyter and Colab alike. Tables of claims stack their cells on
    a phone (the book's CSS, class ``claims``)."""
    from IPython.display import Markdown

    blocks = [_labelled(part.to_html()) if hasattr(part, "to_html") else str(part) for part in parts]
    return Markdown(f'<details class="evidence"><summary>{title}</summary>\n\n' + "\n\n".join(blocks)
                    + "\n\n</details>")


def clearly(a, b, more: str, less: str, same: str = "not clearly different") -> str:
    """Paired samples ``a`` against ``b`` in words: 'clearly <more>', 'clearly <less>' or ``same``
    (the 95% interval decides; the interval itself belongs in the evidence)."""
    from .stats import paired

    p = paired(a, b)
    return f"clearly {more}" if p.above else f"clearly {less}" if p.below else same
