"""One module per DVC stage (``python -m tasks.<stage>``): read the params section, call shoplm, write outs."""

import sys

from shoplm.startup import pause_gc_while_starting

# `python -m tasks.X` imports this package while it looks for X, and Python's argv[0] is "-m" until it has
# found it: so this is a stage command starting, not a test importing a stage module. The pause covers
# the stage module's imports as well as what its main() loads.
if sys.argv[:1] == ["-m"]:
    pause_gc_while_starting()
