"""``python -m spoc`` runs the ``spoc`` command line."""

from spoc.core.cli import main

main()
