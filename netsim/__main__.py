"""``python -m netsim`` is the ``netsim`` command."""

from netsim.cli import main

main()
