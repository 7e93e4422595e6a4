"""The command line, ``python -m lgan``."""

from ._main import main as main
