"""lt_helpers: the small package behind *Winning Tickets*, a runnable book on network
pruning and the Lottery Ticket Hypothesis (Frankle & Carbin, ICLR 2019).

Modules, in the order the data flows: ``data`` (data sets as device tensors), ``models``
(networks, built as batched copies), ``masks`` (pruning: scores to a mask), ``controls``
(what a ticket is compared with), ``plain`` (LeNet's masked training in plain PyTorch, the
reference), ``train`` (the masked training loop; what makes it fast is fenced in ``fast``), ``experiment`` and
``iterative`` (one IMP run, resumable), ``results``, ``store`` and ``schema`` (its records, its
folder, their format), ``full_runs`` (the runs the book ships), ``stats``, ``verdicts``,
``claims`` and ``paper`` (the paper's claims tested), ``plots``, ``lesson`` and ``book`` (what a
chapter shows and does first). ``tools`` holds the command line, the build and the benchmark;
the README's layout section says where each concept lives.
"""
__version__ = "0.9.0"
# Where the book lives; the README, _config.yml and every chapter's install cell name this
# address (tests/test_readers.py checks). A placeholder until the repository is published.
REPOSITORY = "https://github.com/winning-tickets/winning-tickets"

from .errors import LTError  # noqa: E402,F401
