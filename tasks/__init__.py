"""One module per DVC stage (``python -m tasks.<stage>``): read the params section, call shoplm, write outs."""

import logging
import sys

from shoplm.startup import pause_gc_while_starting

# `python -m tasks.X` imports this package while it looks for X, and Python's argv[0] is "-m" until it has
# found it: so this is a stage command starting, not a test importing a stage module. The pause covers
# the stage module's imports as well as what its main() loads.
if sys.argv[:1] == ["-m"]:
    pause_gc_while_starting()

# The first code every stage runs, so before anything imports bitsandbytes: on a CPU with AVX512-BF16,
# importing bitsandbytes 0.50 logs a warning per process ("Failed to load CPU gemm_4bit_forward from
# kernels-community: ... Please make sure you already `pip install kernels`"): an optional faster kernel
# that needs the `kernels` package and the Hugging Face Hub; without it bitsandbytes runs its own.
# That module logs nothing else; its logger's level is the library's switch (shoplm.cli quiets all of
# bitsandbytes for `shoplm score`).
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
