"""The tools around the book, apart from what a reader learns from: the command line
(:mod:`~lt_helpers.tools.cli`), the book's build (:mod:`~lt_helpers.tools.build`) and Sphinx
extension (:mod:`~lt_helpers.tools.sphinx_extension`), headless chapters
(:mod:`~lt_helpers.tools.headless`), grids on Ray (:mod:`~lt_helpers.tools.sweep`), the speed
benchmark (:mod:`~lt_helpers.tools.bench`), the GPU report (:mod:`~lt_helpers.tools.gpureport`)
and the release check (:mod:`~lt_helpers.tools.release`). Chapters import nothing from here."""
