"""``python -m lt_helpers``: the command line (:mod:`lt_helpers.tools.cli`)."""

import sys

from .tools.cli import main

sys.exit(main())
