"""`python -m bot` runs the hoist command."""

import sys

from .cli import main

sys.exit(main())
