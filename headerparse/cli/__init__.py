"""Stage 5, the command line: one module per command family, wired in :mod:`.commands`."""

from headerparse.cli.commands import main

__all__ = ["main"]
