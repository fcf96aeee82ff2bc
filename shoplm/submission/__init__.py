"""Deployable output: the final model as a KDD Cup 2024 submission repository, and the harness that checks it.

* ``writer.write_package``: dist/submission-<track>/ in the starter kit's format (``models/user_config.py``
  exposing ``UserModel``, ``aicrowd.json``, pinned ``requirements.txt``, Dockerfile, git-lfs attributes for
  the weights, a README with the measured scores), the predictor vendored from this package's code;
* ``predictor.SubmissionModel``: what ``UserModel`` is, the evaluate stage's classifier, prompts, per-type
  limits and post-processing behind the evaluator's ``batch_predict`` interface;
* ``check.check_submission``: imports ``UserModel`` in a fresh process as the evaluator does, batches by
  task type, checks and times every call and scores the answers (``shoplm check-submission``).

This module imports nothing: the predictor is vendored into packages without the writer's dependencies.
"""
