"""``python -m rotation`` = the ``rotation`` command."""

from .cli import main

main()
