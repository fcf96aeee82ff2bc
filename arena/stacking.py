"""Which model is submitted: every trained model (baselines and classifiers) is a candidate, alone or blended.

Every member's validation predictions are out of fold: no member was trained on the validation fold.
The stacking weights are fitted on those predictions and judged by cross-fitting (fitted on the other
groups of validation prompts, scored on the held-out group), so the blend's validation log loss is not
the loss its weights were fitted to. The candidates are each member alone (nothing fitted on
validation) and the blend of all of them. The blend is submitted only when its cross-fitted log loss
beats the best single member's by more than one standard error of their paired difference (Breiman's
one-standard-error rule: within one SE the simpler candidate, the single member, is kept).

``check_not_worse`` is the stage's guard: the submission must not be worse than the best model the DAG
trained by more than the interval of their difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from arena.evidence import Difference, paired_difference
from arena.metrics import log_loss
from arena.postprocess import blend, clip, fit_ensemble_weights
from shoplm.errors import UserError

ENSEMBLE = "ensemble"


class SubmissionWorseError(UserError):
    """The submitted model loses to a single trained model by more than the interval of the difference."""


def cross_fitted_blend(members: list[np.ndarray], labels: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """The blend's validation probabilities, each fold blended with weights fitted on the other folds."""
    out = np.zeros_like(members[0], dtype=float)
    for fold in np.unique(folds):
        held = folds == fold
        weights = fit_ensemble_weights([m[~held] for m in members], labels[~held])
        out[held] = blend([m[held] for m in members], weights)
    return out


@dataclass
class Choice:
    """The chosen candidate: a member's name or ``ensemble``, and what the choice rests on."""

    model: str
    weights: dict[str, float]            # the blend's, fitted on the whole validation fold
    valid: np.ndarray                    # the choice's validation probabilities (cross-fitted for the blend), clipped
    ensemble_valid: np.ndarray           # the blend's cross-fitted validation probabilities, clipped
    best_member: str
    losses: dict[str, float] = field(default_factory=dict)  # candidate → validation log loss (clipped)
    ensemble_vs_best: Difference | None = None
    reason: str = ""


def choose(members: dict[str, np.ndarray], labels: np.ndarray, folds: np.ndarray, eps: float,
           n_resamples: int = 2000, seed: int = 0) -> Choice:
    """The best single member, or the blend of all members when it is better by more than one SE."""
    if not members:
        raise ValueError("no ensemble members")
    names = list(members)
    clipped = {name: clip(probs, eps) for name, probs in members.items()}
    losses = {name: log_loss(labels, probs) for name, probs in clipped.items()}
    best = min(names, key=lambda name: losses[name])
    weights = fit_ensemble_weights([members[n] for n in names], labels)
    blended = clip(cross_fitted_blend([members[n] for n in names], labels, folds), eps)
    losses[ENSEMBLE] = log_loss(labels, blended)
    diff = paired_difference(labels, blended, clipped[best], n_resamples=n_resamples, seed=seed)
    common = dict(weights=dict(zip(names, weights.round(4).tolist())), ensemble_valid=blended,
                  best_member=best, losses=losses, ensemble_vs_best=diff)
    if len(names) > 1 and diff.point < -diff.se:
        return Choice(ENSEMBLE, valid=blended, **common,
                      reason=f"the blend of {len(names)} members beats the best member {best} by "
                             f"{-diff.point:.4f} log loss, more than one standard error ({diff.se:.4f})")
    return Choice(best, valid=clipped[best], **common,
                  reason=f"{best} has the lowest validation log loss of the {len(names)} members; the blend "
                         f"of them all is {diff.point:+.4f} against it, within one standard error "
                         f"({diff.se:.4f}) or worse, so the simpler model is kept")


def check_not_worse(labels: np.ndarray, submitted: np.ndarray, best: np.ndarray, submitted_name: str,
                    best_name: str, n_resamples: int = 2000, seed: int = 0) -> Difference:
    """The paired difference submitted - best; raises SubmissionWorseError when its interval is above 0."""
    diff = paired_difference(labels, submitted, best, n_resamples=n_resamples, seed=seed)
    if diff.low > 0:
        raise SubmissionWorseError(
            f"the submission ({submitted_name}, validation log loss {log_loss(labels, submitted):.4f}) is "
            f"worse than the best trained model ({best_name}, {log_loss(labels, best):.4f}) by {diff.point:.4f}, "
            f"95% CI [{diff.low:.4f}, {diff.high:.4f}] over {diff.n} battles; add {best_name} to "
            "ensemble.members in arena/params.yaml (or use members: all)")
    return diff
