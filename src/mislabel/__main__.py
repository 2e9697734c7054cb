"""`python -m mislabel ...`: the same as the `mislabel` command."""

import sys

from mislabel.cli import main

sys.exit(main())
