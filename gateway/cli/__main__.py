"""``python -m gateway.cli``: the same as the ``cocalc-gateway`` command."""

from . import main

main()
