"""The book's Sphinx extension (``_config.yml`` lists it): every link into the published book
becomes a link within the book being built; every shipped full run is written into the
built site as ``downloads/<name>.json`` and ``.csv``, beside the wheel of this version and a
zip of every chapter notebook (:func:`write_downloads`); and the appendix's table of the
results format is generated from the schema as the page is read (:func:`fill_tables`), so that
a new control or field changes the code alone."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from docutils import nodes

from ..links import BOOK


def write_downloads(folder: Path) -> list[Path]:
    """Write every shipped full run as ``<name>.json`` and ``<name>.csv`` into ``folder``."""
    from ..full_runs import FULL_RUNS, full_run, full_run_json

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FULL_RUNS:
        (folder / f"{name}.json").write_bytes(full_run_json(name))
        full_run(name).frame().to_csv(folder / f"{name}.csv", index=False)
        written += [folder / f"{name}.json", folder / f"{name}.csv"]
    return written


def write_bundles(root: Path, folder: Path) -> list[Path]:
    """This version's ``lt_helpers`` wheel, built from the book in ``root``, and a zip of every
    chapter notebook as committed (without outputs), into ``folder``: what a reader whose
    Colab install failed, or who wants every chapter at once, downloads."""
    import zipfile

    from .. import __version__
    from .release import notebooks_zip_name, wheel

    built = wheel(root, folder)
    bundle = folder / notebooks_zip_name()
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
        for nb in sorted((root / "chapters").glob("*.ipynb")):
            zf.write(nb, f"winning-tickets-{__version__}/{nb.name}")
    return [built, bundle]


# a line of a page that stands for a table generated from the code (``lt_helpers.schema.markdown``)
TABLES = {"<!-- the results format, from lt_helpers.schema -->": "schema"}


def fill_tables(text: str) -> str:
    """``text`` with every line of :data:`TABLES` replaced by the table it stands for."""
    from .. import schema

    made = {"schema": schema.markdown}
    for marker, table in TABLES.items():
        if marker in text:
            text = text.replace(marker, made[table]())
    return text


def _fill_tables(app, docname, source) -> None:
    source[0] = fill_tables(source[0])


def _local_links(app, doctree, docname) -> None:
    here = posixpath.dirname(docname) or "."
    for ref in doctree.findall(nodes.reference):
        uri = ref.get("refuri", "")
        if uri.startswith(BOOK + "/"):
            path, _, fragment = uri[len(BOOK) + 1:].partition("#")
            ref["refuri"] = posixpath.relpath(path, here) + ("#" + fragment if fragment else "")
    # links inside HTML a chapter printed (the paper-at-a-glance table's chapter links)
    inside = re.compile(rf'href="{re.escape(BOOK)}/([^"#]*)(#[^"]*)?"')
    for raw in list(doctree.findall(nodes.raw)):
        if BOOK in raw.astext():
            local = inside.sub(lambda m: f'href="{posixpath.relpath(m.group(1), here)}{m.group(2) or ""}"', raw.astext())
            raw.children = [nodes.Text(local)]


def _write_downloads(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        write_downloads(Path(app.outdir) / "downloads")
        write_bundles(Path(app.srcdir), Path(app.outdir) / "downloads")


def setup(app):
    """Sphinx's entry point: generated tables as a page is read, local links after references are
    resolved, downloads after the build."""
    app.connect("source-read", _fill_tables)
    app.connect("doctree-resolved", _local_links)
    app.connect("build-finished", _write_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
