"""shoplm: a reproducible pipeline for competition-grade shopping LLMs (see README.md and docs)."""
