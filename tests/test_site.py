"""Links that read the same in Colab, Jupyter and the book: glossary terms and the full runs'
downloads point at the published book; the book's build turns them into local links."""

import json

import pandas as pd
from docutils import nodes
from docutils.utils import new_document

from lt_helpers import REPOSITORY, links
from lt_helpers.tools import sphinx_extension
from lt_helpers.full_runs import FULL_RUNS, full_run


def test_the_published_book_is_the_repositorys_pages_site():
    owner, name = REPOSITORY.split("/")[-2:]
    assert links.BOOK == f"https://{owner}.github.io/{name}"


def test_a_term_link_is_bold_markdown_to_the_terms_anchor():
    assert links.term("winning ticket") == f"[**winning ticket**]({links.BOOK}/chapters/glossary.html#term-winning-ticket)"
    assert links.term("LeNet-300-100", "LeNet").endswith("glossary.html#term-LeNet-300-100)")
    assert links.term("Conv-2, Conv-4, Conv-6").endswith("#term-Conv-2-Conv-4-Conv-6)")


def test_every_full_run_is_written_as_json_and_csv(tmp_path):
    written = sphinx_extension.write_downloads(tmp_path)
    assert len(written) == 2 * len(FULL_RUNS)
    for name in ("lenet_300_100-mnist1d-paper", "conv2-mnist1d-full"):
        raw = json.loads((tmp_path / f"{name}.json").read_text())
        runs = full_run(name).runs
        assert set(raw) == {"config", "runs"} and len(raw["runs"]) == len(runs)
        table = pd.read_csv(tmp_path / f"{name}.csv")
        assert len(table) == len(runs) and {"trial", "round", "condition", "early_stop_test_acc"} <= set(table)
    text = links.downloads("conv2-mnist1d-full", "conv4-mnist1d-full")
    assert f"({links.BOOK}/downloads/conv4-mnist1d-full.csv)" in text and text.startswith("The full runs")


class _Builder:
    def get_relative_uri(self, source, target):  # not used: relative paths are computed
        raise AssertionError


def test_links_into_the_published_book_become_links_within_the_built_one():
    doc = new_document("chapter")
    for uri in (f"{links.BOOK}/chapters/glossary.html#term-mask", f"{links.BOOK}/downloads/x.csv",
                "https://example.org/elsewhere"):
        doc += nodes.paragraph("", "", nodes.reference("", "link", refuri=uri))
    app = type("App", (), {"builder": _Builder()})()
    sphinx_extension._local_links(app, doc, "chapters/03_iterative_pruning")
    assert [r["refuri"] for r in doc.findall(nodes.reference)] == [
        "glossary.html#term-mask", "../downloads/x.csv", "https://example.org/elsewhere"]


def test_links_in_html_a_chapter_printed_become_links_within_the_built_book_too():
    """The paper-at-a-glance table is HTML a chapter prints (chapter 2): its links to the
    published chapters become links within the book being built, as Markdown links do."""
    doc = new_document("chapter")
    doc += nodes.raw("", f'<td><a href="{links.BOOK}/chapters/03_iterative_pruning.html">chapter 3</a>'
                         f'<a href="{links.BOOK}/chapters/glossary.html#term-mask">mask</a></td>', format="html")
    app = type("App", (), {"builder": _Builder()})()
    sphinx_extension._local_links(app, doc, "chapters/02_lottery_ticket")
    shown = next(iter(doc.findall(nodes.raw))).astext()
    assert links.BOOK not in shown
    assert 'href="03_iterative_pruning.html"' in shown and 'href="glossary.html#term-mask"' in shown
