"""``python -m minidsn`` is the ``minidsn`` command."""

import sys

from minidsn.cli import main

if __name__ == "__main__":
    sys.exit(main())
