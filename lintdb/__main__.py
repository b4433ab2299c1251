"""`python -m lintdb`."""

import sys

from lintdb.cli import main

sys.exit(main())
