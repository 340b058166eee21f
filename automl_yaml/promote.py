"""The promotion gate: does a new registered version take the champion's alias?

A run registers a new version of ``tracking.register``; the version takes the
alias (``champion`` by default) only when

* no version holds the alias yet (the first model of a name), or
* ``tracking.promote`` is ``always``, or
* it beats the champion under the spec's rule: both models are scored on the
  **same rows** (the new run's held-out test rows, never seen by either
  search) by the rule's metric, and the new one is better by more than
  ``min_delta`` (a tie keeps the champion).

``never`` keeps the alias where it is. A champion that cannot be scored on
the rows (its columns are gone, its file is unreadable) keeps the alias too,
and the reason says so: moving a production alias needs evidence. The version
that does not take the alias is tagged ``challenger``, so a person can still
promote it by hand (``mlflow`` UI, or ``MlflowClient.set_registered_model_alias``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any


@dataclasses.dataclass(frozen=True)
class GateInput:
    """What the tracker needs to decide (picklable: it may cross to the tracking process).

    ``X`` and ``y`` are the rows both models are scored on (the held-out test
    rows, labels as in the data); ``challenger`` is the new model's score on
    them; ``champion_uri`` is ``mlx run --challenge``'s model, else the alias's holder.
    """

    rule: Any
    metric: dict[str, Any]
    X: Any
    y: Any
    challenger: float | None
    rows: int
    champion_uri: str | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the gate decided, and why; written to ``summary.json`` and to the version's tags."""

    promote: bool
    reason: str
    metric: str | None = None
    challenger: float | None = None
    champion: float | None = None
    champion_version: str | None = None
    rows: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def decide(
    rule: Any,
    *,
    champion_version: str | None,
    metric: str | None = None,
    greater_is_better: bool = True,
    challenger: float | None = None,
    champion: float | None = None,
    champion_error: str | None = None,
    rows: int | None = None,
) -> Decision:
    """The gate's decision for ``rule`` (``"always"``, ``"never"`` or a rule with ``min_delta``).

    Args:
        champion_version: The version holding the alias, or None when none does.
        metric: The metric both were scored by.
        greater_is_better: The metric's direction (``rmse``: False).
        challenger: The new version's score on the rows.
        champion: The champion's score on the same rows.
        champion_error: Why the champion could not be scored, when it could not.
        rows: How many rows both were scored on.
    """
    common = {"metric": metric, "challenger": challenger, "champion": champion, "champion_version": champion_version, "rows": rows}
    if rule == "never":
        return Decision(False, "tracking.promote is never: the alias stays where it is", **common)
    if champion_version is None:
        return Decision(True, "no version holds the alias yet: the first model of a name becomes champion", **common)
    if rule == "always":
        return Decision(True, "tracking.promote is always", **common)
    if champion_error is not None:
        return Decision(False, f"the champion (version {champion_version}) could not be scored on the same rows: {champion_error}", **common)
    if challenger is None or champion is None or not (math.isfinite(challenger) and math.isfinite(champion)):
        return Decision(False, f"{metric} could not be computed for both models on the same rows", **common)
    min_delta = float((rule.get("min_delta") if isinstance(rule, dict) else getattr(rule, "min_delta", 0.0)) or 0.0)
    gain = (challenger - champion) if greater_is_better else (champion - challenger)
    direction = "higher" if greater_is_better else "lower"
    versus = f"{metric} {challenger:.6g} against the champion's {champion:.6g} (version {champion_version}) on the same {rows or ''} rows".replace("  ", " ")
    if gain > min_delta:
        return Decision(True, f"it beats the champion: {versus}, {gain:.6g} better ({direction} is better; min_delta {min_delta:g})", **common)
    return Decision(False, f"it does not beat the champion: {versus} (needs {direction} by more than {min_delta:g})", **common)


def score_on(model, X, y, metrics: list[dict[str, Any]]) -> tuple[dict[str, float], int]:
    """A trained model's scores on rows with their original labels, and how many rows were scored.

    ``metrics`` are ``{"name", "scorer", "sign"}`` (a scikit-learn scorer's name;
    ``sign`` -1 turns ``neg_*`` scorers back into ``rmse``...). Rows without a
    label, or with a label the model never saw, are left out. Each model is
    scored in its own encoding of the labels, so two models trained on
    different class lists compare on the same rows.
    """
    import numpy as np
    import pandas as pd
    from sklearn.metrics import get_scorer

    y = pd.Series(np.asarray(y, dtype=object), index=X.index)
    keep = y.notna().to_numpy().copy()  # pandas 3 hands out read-only views
    if model.task == "classification":
        lookup = {str(c): i for i, c in enumerate(model.classes)}
        codes = y.astype(str).map(lookup)
        keep &= codes.notna().to_numpy()
        y = codes
    else:
        y = pd.to_numeric(y, errors="coerce")
        keep &= y.notna().to_numpy()
    if not keep.any():
        return {}, 0
    X_kept = model.check_input(X.loc[keep])
    y_true = np.asarray(y[keep], dtype=int if model.task == "classification" else float)
    out = {}
    for m in metrics:
        try:
            out[m["name"]] = float(m["sign"] * get_scorer(m["scorer"])(model.pipeline_, X_kept, y_true))
        except Exception:  # a metric these rows cannot give (one class only, ...): left out
            continue
    return out, int(keep.sum())
