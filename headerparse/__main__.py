import os
import sys

from headerparse.cli import main

code = main()
if getattr(sys.modules.get("headerparse.cli.site"), "LEAVE_FAST", False):
    # `headerparse build` leaves its heap (the model, the pages, the plan) to the OS:
    # freeing it object by object at exit was a twentieth of a one-header rebuild. A
    # build registers no exit handler and leaves no object to finalize; the output
    # streams are flushed here.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
raise SystemExit(code)
