"""Chatbot-arena preference prediction (seed 004, Kaggle "LLM Classification Finetuning").

Given a prompt and two chatbot responses, predict P(a wins), P(b wins) and P(tie); scored by
multi-class log loss. The pieces, one concern per module:

    data         the competition CSVs (train and test), checked row by row; A/B swap
    folds        grouped folds: no prompt in both train and validation
    metrics      log loss, accuracy, the label entropy
    features     length and overlap features of a pair of responses
    baselines    class prior, difference-bucket mean, gradient boosting (the ``ARENA_MODELS`` registry)
    text         proportional truncation of prompt, response_a, response_b into one input
    classifier   LoRA sequence classification with 3 labels, swap augmentation, swap-TTA
    postprocess  clipping, ensemble weights, temperature scaling, seed 004's threshold×multiplier rule
    outputs      prediction files, submission.csv, reliability diagram
    settings     pydantic models of arena/params.yaml
"""
