"""Prompt strategies: how a ShopBench question becomes chat messages, chosen per task type in params.

* ``strategies``: the ``STRATEGIES`` registry (``plain``, ``task-type``, ``k-shot``, ``cot``) and
  ``PromptPlan``, task type → strategy, which training and evaluation both render through;
* ``examples``: the named example set k-shot prompts draw from (never the question itself, never the
  set being evaluated);
* ``settings``: ``PromptSettings``, the ``evaluate.generation.prompts`` section;
* ``wordings.yaml``: the wordings themselves (data, not code).
"""
