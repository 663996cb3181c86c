"""lt_helpers: the small package behind *Winning Tickets*, a runnable book on network
pruning and the Lottery Ticket Hypothesis (Frankle & Carbin, ICLR 2019).

Modules, in the order the data flows: ``data`` (datasets as device tensors), ``models``
(networks trained as batched copies), ``masks`` (pruning), ``train`` (the masked training
loop), ``imp`` (iterative magnitude pruning, controls, resumable results), ``presets``
(hyperparameters), ``plots`` (the book's figures), ``bench`` (the speed benchmark).
"""

__version__ = "0.2.0"

from .errors import LTError  # noqa: E402,F401
