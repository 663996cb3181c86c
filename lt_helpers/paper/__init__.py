"""The paper's results as content, in one place: what Frankle and Carbin report network by
network (ICLR 2019, arXiv:1803.03635v5: Sections 2-4, Figures 3-5 and 7-9, Appendices B-I), each
claim with the paper's own number, as a function that tests it on a run. The decision rule is
:mod:`lt_helpers.verdicts`; a claim tested at one level or scanned over every level is
:mod:`lt_helpers.claims`.

* :mod:`~lt_helpers.paper.lenet`: LeNet-300-100 (Section 2, Figures 3 and 4) and the controls of
  chapter 6 (Appendix E; Zhou et al. 2019 on signs)
* :mod:`~lt_helpers.paper.conv`: Conv-2, Conv-4 and Conv-6 (Section 3, Figure 5)
* :mod:`~lt_helpers.paper.deep`: VGG-19 and ResNet-20 (Section 4, Figures 7-9)
* :mod:`~lt_helpers.paper.glance`: the paper's headline results beside the book's scoreboard,
  generated from the full runs the book ships
"""

from . import conv, deep, glance, lenet

__all__ = ["lenet", "conv", "deep", "glance"]
