"""``python -m boed_nas``: the ``boed-nas`` command."""

import sys

from .cli import main

sys.exit(main())
