"""The published book's addresses, so that links read the same in Colab, Jupyter and the book.

A chapter links a term where it first appears to the glossary of the *published* book,
``[**pruning**](https://…/chapters/glossary.html#term-pruning)``, and each full run it draws
to its JSON and CSV files there (:func:`downloads`): plain Markdown links, which work in
Colab and in a notebook opened anywhere (a ``{term}`` or ``{download}`` role would read raw
there). When the book is built, :mod:`lt_helpers.tools.sphinx_extension` turns every such
link into a link within the built book and writes the files they point to.
"""

from __future__ import annotations

from . import REPOSITORY

_owner, _name = REPOSITORY.rstrip("/").split("/")[-2:]
BOOK = f"https://{_owner}.github.io/{_name}"  # where the book is published (GitHub Pages of REPOSITORY)
GLOSSARY = "chapters/glossary"  # the glossary's document name in the book


def anchor(term: str) -> str:
    """The HTML id Sphinx gives a glossary term (``term-`` + the term, lower case, dashes)."""
    from sphinx.util.nodes import _make_id

    return _make_id(f"term-{term}")


def term(name: str, text: str | None = None) -> str:
    """A chapter's Markdown link to glossary term ``name``, in bold: ``text`` or the name."""
    return f"[**{text or name}**]({BOOK}/{GLOSSARY}.html#{anchor(name)})"


def downloads(*names: str) -> str:
    """One Markdown line linking each full run in ``names`` as JSON (config and every record,
    curves included) and CSV (one row per trained network)."""
    links = [f"`{n}` ([JSON]({BOOK}/downloads/{n}.json), [CSV]({BOOK}/downloads/{n}.csv))" for n in names]
    return ("The full run" + ("s" if len(names) > 1 else "") + " drawn here, to download: " + "; ".join(links)
            + ". In Python: `lt_helpers.full_runs.full_run(name).frame()`.")
