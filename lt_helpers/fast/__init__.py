"""The fast layer: what makes the book's training fast, fenced off from what it teaches.

Nothing here changes *what* is computed. :mod:`lt_helpers.plain` trains LeNet's masked
networks in plain ``torch.nn`` + ``torch.optim``, and a test holds its records equal to the
fast loop's (within float rounding); read it first. What each piece here buys is measured in
``results/speed-notes.md`` (when each choice was made) and re-measured by ``make bench``
(``results/bench/``):

* :mod:`~lt_helpers.fast.layers`, **batched copies**: every layer holds ``copies``
  independent networks and computes them in one product (``Linear``: a batched matrix
  multiply; ``Conv``: a grouped convolution; ``BatchNorm``: per-copy statistics), so a
  round's tickets and controls train as one model, where small products would leave the CPU
  idle. Its custom autograd function ``_FewOutputs`` computes an output layer's product
  transposed (10 outputs fill less than one vector register), and ``side_by_side`` lays
  images out channels-last for the convolutions. Bench rows: ``lt_helpers K=8`` against
  ``K=1``; speed-notes: the output layer, channels-last.
* :mod:`~lt_helpers.fast.adam`, **Adam without the bookkeeping**: the very function
  ``torch.optim.Adam.step()`` calls, without the class's per-step hooks and regrouping; the
  same update bit for bit (a test). Speed-notes: Adam.
* :mod:`~lt_helpers.fast.pool`, **a process per group**: on a CPU a round's networks split
  into groups, each trained in its own forked process with one thread (small products
  parallelize poorly inside one kernel and well across processes), and no worker outlives
  the run however it ends. Speed-notes: process groups, processes rather than threads.

The training loop itself (:mod:`lt_helpers.train`) keeps three smaller choices where they
act, each with its reason beside it: the loss over a ``[copies, classes, batch]`` layout and
evaluation in cache-sized chunks (their docstrings), denormal floats flushed to zero (a
comment in the loop).
"""
