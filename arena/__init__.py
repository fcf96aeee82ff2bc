"""Chatbot-arena preference prediction (seed 004, Kaggle "LLM Classification Finetuning").

Given a prompt and two chatbot responses, predict P(a wins), P(b wins) and P(tie); scored by
multi-class log loss. The pieces, one concern per module:

    data         the competition CSVs (train and test), checked row by row; A/B swap
    folds        grouped folds: no prompt in both train and validation
    metrics      log loss, accuracy, the label entropy
    features     length and overlap features of a pair of responses
    baselines    class prior, difference-bucket mean, gradient boosting, on lengths alone too (``ARENA_MODELS``)
    text         proportional truncation of prompt, response_a, response_b into one input
    classifier   LoRA sequence classification with 3 labels, swap augmentation, swap-TTA
    postprocess  clipping, ensemble weights, temperature scaling, seed 004's threshold×multiplier rule
    stacking     the submission: every trained model alone or blended (cross-fitted), and the guard
    evidence     seeded bootstrap intervals over validation battles, paired for differences
    report       the table of every run with intervals, and the submission beside the best and the prior
    outputs      prediction files, submission.csv, reliability diagram
    registry     ``ARENA_MODELS``: prior, bucket, gbdt, length_gbdt, lora by name
    runs         the validation split every stage shares; MLflow runs in the ``shoplm-arena`` experiment
    settings     pydantic models of arena/params.yaml

The stages (tasks/arena_*.py), arena/dvc.yaml and the flow (flows/arena.py, ``make arena``) put them
together; data/generators/arena.py writes the sample in data/sample/arena/.

A package of its own beside shoplm: it imports from shoplm only ``shoplm.registry``, ``shoplm.errors``,
``shoplm.tracking`` and the params loader ``shoplm.params.loader``, so a change to a ShopBench module
does not rerun the arena DAG, and the reverse (tests/arena/test_params_and_dag.py checks it).
"""
