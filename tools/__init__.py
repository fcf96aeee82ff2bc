"""Developer tools for this repository (not part of the shoplm library: nothing under shoplm/ or tasks/ imports them)."""
