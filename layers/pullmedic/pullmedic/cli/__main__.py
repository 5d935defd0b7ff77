"""`python -m pullmedic.cli`."""

import sys

from pullmedic.cli.main import main

sys.exit(main())
