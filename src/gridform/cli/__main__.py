"""``python -m gridform.cli`` runs the ``gridform`` command."""

import sys

from gridform.cli.app import main

sys.exit(main())
