"""shoplm: a reproducible pipeline for competition-grade shopping LLMs (see README.md and docs)."""

import logging

# Before anything of the project imports bitsandbytes (stages through peft; a flow and `shoplm profile use`
# through transformers' scheduler names, when they check the params): on a CPU with AVX512-BF16, importing
# bitsandbytes 0.50 logs a warning per process ("Failed to load CPU gemm_4bit_forward from
# kernels-community: ... Please make sure you already `pip install kernels`"), an optional faster kernel
# that needs the `kernels` package and the Hugging Face Hub; without it bitsandbytes runs its own. That
# module logs nothing else, and its logger's level is the library's switch. Here, every entry point that
# imports the project gets it.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
