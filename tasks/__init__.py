"""One module per DVC stage (``python -m tasks.<stage>``): read the params section, call shoplm, write outs."""
