"""ShopBench itself: question records, the official parsers, metrics and scoring, the task-type
classifier, prompts and prompt strategies (``prompting/``), reports and the constraints ablation.

Not empty on purpose: it is a DVC dep of most stages, and DVC warns about an empty dep file.
"""
