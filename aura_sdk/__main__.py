"""``python -m aura_sdk``: the ``aura`` command line."""

import sys

from .cli import main

sys.exit(main())
