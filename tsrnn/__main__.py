"""``python -m tsrnn``: the command line (see :mod:`tsrnn.cli`)."""

import sys

from .cli import main

sys.exit(main())
