"""lt_helpers: the small package behind *Winning Tickets*, a runnable book on network
pruning and the Lottery Ticket Hypothesis (Frankle & Carbin, ICLR 2019).

Modules, in the order the data flows: ``data`` (datasets as device tensors), ``models``
(networks trained as batched copies), ``masks`` (pruning), ``train`` (the masked training
loop), ``imp`` (iterative magnitude pruning, controls, resumable results), ``presets``
(hyperparameters), ``results`` (the committed full runs), ``plots`` (the book's figures),
``book`` (what a chapter does first), ``parallel`` (groups of networks on CPU cores),
``bench`` (the speed benchmark).
"""

__version__ = "0.9.0"
# Where the book lives; the README, _config.yml and every chapter's install cell name this
# address (tests/test_readers.py checks). A placeholder until the repository is published.
REPOSITORY = "https://github.com/winning-tickets/winning-tickets"

from .errors import LTError  # noqa: E402,F401
