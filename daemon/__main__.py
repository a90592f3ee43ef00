"""`python -m daemon` is the `twos-and-sevens` command."""

import sys

from daemon.cli import main

sys.exit(main())
