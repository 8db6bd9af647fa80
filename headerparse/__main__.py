import gc
import os
import sys

# The commands' imports build some 40 dataclasses and 180 regular expressions and
# free next to nothing: the collector's passes over them are a twentieth of the
# imports, on the one core a cold extraction then uses.
gc.disable()
from headerparse.cli import main  # noqa: E402

gc.enable()

code = main()
if getattr(sys.modules.get("headerparse.cli.common"), "LEAVE_FAST", None):
    # `build` and `extract` leave their heaps (the model, the pages, the plan) to the
    # OS: freeing them object by object at exit was a twentieth of a one-header
    # rebuild, and a fiftieth of a second of an extraction.  Such a command registers
    # no exit handler and leaves no object to finalize; the output streams are
    # flushed here.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
raise SystemExit(code)
