"""Studies around the pipeline, not in it: the prompt-strategy ablation and the zero-shot model sweep
(their params sections, ``prompt_ablation`` and ``sweep``, are in ``shoplm.params.studies``).

* ``compare``: rows of score reports side by side (task type × variant, parse failures), as a table
  and a chart;
* ``correlation``: Pearson and Spearman between ShopBench scores and public benchmark scores, with n
  and a warning when n is too small to mean anything (seed 000);
* ``models``: a sweep entry (the tiny builder, a GGUF file, a local folder) → a model folder.
"""
