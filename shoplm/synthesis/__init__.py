"""LLM synthesis of the Table 7 rows that need a model, through any OpenAI-compatible endpoint.

=================  ==================================================================================
module             what it holds
=================  ==================================================================================
``settings``       the ``synth`` params section (endpoint, key variable, prices, sampling, budget, rows)
``templates``      prompt templates and reply schemas, read from ``templates/*.yaml`` (data)
``sources``        source records of each row, as the template's inputs; few-shot examples
``client``         the ``openai`` client with retries (backoff, jitter, Retry-After) and a timeout
``cache``          persistent response cache (SQLite, one committed row per reply)
``ledger``         tokens, cost and request counts; the per-run budget
``validate``       reply checks (JSON, schema, lengths) and reject reasons
``assemble_*``     replies → ShopBench questions, each rejecting what cannot give a sound question
``runner``         the run: plan, cache, bounded concurrency, budget, validation, final checks
``server``         a local vLLM OpenAI-compatible server: start, health-wait, always stop
``outputs``        the stage's questions and their rows; the ``synthetic`` frame ``build`` reads
=================  ==================================================================================

Importing this package imports nothing heavy; ``shoplm.builders.llm_rows`` reads ``templates`` only.
"""
