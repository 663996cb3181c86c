"""The published book's addresses, so that links read the same in Colab, Jupyter and the book.

A chapter links a term where it first appears to the glossary of the *published* book,
``[**pruning**](https://…/chapters/glossary.html#term-pruning)``, and each full run it draws
to its JSON and CSV files there (:func:`downloads`): plain Markdown links, which work in
Colab and in a notebook opened anywhere (a ``{term}`` or ``{download}`` role would read raw
there). This module is also a Sphinx extension (``_config.yml`` lists it): it writes every
shipped full run as ``downloads/<name>.json`` and ``.csv`` into the built site, and turns
every link into the published book into a link within the book being built.
"""

from __future__ import annotations

import gzip
import posixpath
from pathlib import Path

from docutils import nodes

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
            + ". In Python: `lt_helpers.results.full_run(name).frame()`.")


def write_downloads(folder: Path) -> list[Path]:
    """Write every shipped full run as ``<name>.json`` and ``<name>.csv`` into ``folder``."""
    from .results import FULL_RUNS, full_run

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FULL_RUNS:
        packed = Path(__file__).parent / "full_runs" / f"{name}.json.gz"
        (folder / f"{name}.json").write_bytes(gzip.decompress(packed.read_bytes()))
        full_run(name).frame().to_csv(folder / f"{name}.csv", index=False)
        written += [folder / f"{name}.json", folder / f"{name}.csv"]
    return written


def _local_links(app, doctree, docname) -> None:
    for ref in doctree.findall(nodes.reference):
        uri = ref.get("refuri", "")
        if uri.startswith(BOOK + "/"):
            path, _, fragment = uri[len(BOOK) + 1:].partition("#")
            ref["refuri"] = posixpath.relpath(path, posixpath.dirname(docname) or ".") + ("#" + fragment if fragment
                                                                                          else "")


def _write_downloads(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        write_downloads(Path(app.outdir) / "downloads")


def setup(app):
    """Sphinx's entry point: local links after references are resolved, downloads after the build."""
    app.connect("doctree-resolved", _local_links)
    app.connect("build-finished", _write_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
