"""Metrics at run time: scikit-learn scorers, named by the spec.

Every metric is *optimised* as a greater-is-better score (scikit-learn's
convention: ``neg_root_mean_squared_error``). What people read is the
``display`` value: for the friendly aliases of ``neg_*`` scorers (``rmse``,
``mae``, ``log_loss``) the sign is flipped back, so a leaderboard shows
``rmse = 3.2`` and says "lower is better".

Secondary objectives (``fit_time``, ``predict_time``, ``model_size``) are
measured by the evaluator, not scored, and are always minimised.
"""

from __future__ import annotations

import dataclasses

from .. import registry as R
from ..errors import DataError
from . import catalog


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    scorer_name: str | None  # None for measured objectives
    sign: int  # display = sign * score
    objective_only: bool = False

    @property
    def direction(self) -> str:
        """Optuna's direction for the optimised value (the score, or the measured quantity)."""
        if self.objective_only:
            return "minimize"
        return "maximize"

    @property
    def greater_is_better(self) -> bool:
        return self.sign > 0

    def scorer(self):
        """A scikit-learn scorer callable ``scorer(estimator, X, y)``.

        Binary targets are encoded 0/1 with the positive class as 1 before the
        search (see ``automl_yaml.data``), so scorers need no ``pos_label``.
        """
        from sklearn.metrics import get_scorer

        if self.scorer_name is None:
            raise ValueError(f"'{self.name}' is measured, not scored")
        return get_scorer(self.scorer_name)

    def display(self, score: float | None) -> float | None:
        if score is None:
            return None
        return self.sign * score if not self.objective_only else score


def default_metric(task: str, n_classes: int | None) -> str:
    if task == "regression":
        return catalog.DEFAULT_METRIC["regression"]
    return catalog.DEFAULT_METRIC["binary" if n_classes == 2 else "multiclass"]


def resolve(names: list[str], task: str, *, n_classes: int | None = None) -> list[Metric]:
    """The :class:`Metric` objects of a spec's ``search.metric`` for the data found.

    Raises:
        DataError: (exit 2) when a metric does not fit the data, e.g. ``roc_auc``
            on a multiclass target.
    """
    names = list(names) or [default_metric(task, n_classes)]
    out = []
    for n in names:
        meta = R.metrics.get(n).meta
        if meta.get("objective_only"):
            out.append(Metric(n, None, -1, objective_only=True))
            continue
        t = meta.get("task")
        if t in ("classification", "regression") and t != task:
            raise DataError(f"the metric '{n}' is for {t}, but the target makes this a {task} task", hint="set search.metric, or data.task", usage=True)
        if meta.get("binary_only") and n_classes is not None and n_classes > 2:
            hint = {"roc_auc": "roc_auc_ovr", "auc": "roc_auc_ovr", "f1": "f1_macro", "precision": "precision_macro", "recall": "recall_macro"}.get(n)
            raise DataError(
                f"the metric '{n}' needs a binary target, and this one has {n_classes} classes",
                hint=f"use {hint}" if hint else "choose a multiclass metric (accuracy, f1_macro, roc_auc_ovr, log_loss)",
                usage=True,
            )
        out.append(Metric(n, meta["scorer"], meta["sign"]))
    return out
