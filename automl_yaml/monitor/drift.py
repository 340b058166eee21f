"""Compare current data with a model's reference profile: drift, schema and performance.

Per feature:

* **population stability index** (PSI) on the reference's ten bins of equal
  mass, for numbers and categories alike; the usual reading, and the default
  thresholds: below 0.1 stable, 0.1 to 0.25 a moderate shift (a warning),
  0.25 and above a significant shift (drift);
* **Kolmogorov-Smirnov** for numbers: the largest gap between the reference's
  and the current distribution functions, read at the reference's 101
  quantiles (so a lower bound of the exact two-sample statistic, equal to it
  when the gap is largest at one of them), with the asymptotic p-value
  (``scipy.stats.kstwobign``, as ``scipy.stats.ks_2samp`` computes it for large
  samples). Reported; with large samples any p-value is tiny, so it does not
  decide drift on its own;
* **Jensen-Shannon distance** (base 2, between 0 and 1; drift from 0.1, the
  default of Evidently for categories) and a **chi-square** test for
  categories (``scipy``);
* the change of the **missing share** (drift from 0.05, five points);
* **schema**: columns missing or new, a number now read as text, categories
  never seen in training.

The predictions are compared in the same way (prediction drift), and when the
current data carries the target, the model's score on it is compared with its
held-out score (a drop of more than 5 % of the held-out score is drift).

Statistics come from numpy and scipy; nothing here reads a whole column twice.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from .reference import (
    CATEGORICAL,
    REFERENCE_VERSION,
    as_numbers,
    category_counts,
    feature_kind,
    numeric_counts,
)

#: Smoothing of empty bins in the PSI (a share of 0 would make it infinite).
PSI_EPS = 1e-4


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """When a change counts as drift. The defaults follow common practice (see the module's doc)."""

    psi_warn: float = 0.1
    psi_drift: float = 0.25
    js_drift: float = 0.1
    missing_delta: float = 0.05
    performance_drop: float = 0.05  # relative to the held-out score
    new_categories: bool = True  # categories unseen in training count as drift


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count (or share) vectors over the same bins."""
    e = expected / max(expected.sum(), 1)
    a = actual / max(actual.sum(), 1)
    e = np.clip(e, PSI_EPS, None)
    a = np.clip(a, PSI_EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _ks(ref: dict, counts: np.ndarray) -> tuple[float, float]:
    from scipy.stats import kstwobign

    ref_counts = np.asarray(ref["counts"], dtype=float)
    n_ref, n_cur = ref_counts.sum(), counts.sum()
    if n_ref == 0 or n_cur == 0:
        return float("nan"), float("nan")
    gap = np.abs(np.cumsum(ref_counts) / n_ref - np.cumsum(counts) / n_cur)
    stat = float(gap.max())
    en = math.sqrt(n_ref * n_cur / (n_ref + n_cur))
    return stat, float(kstwobign.sf(en * stat))


def _numeric(ref: dict, values: pd.Series) -> dict[str, Any]:
    numbers = as_numbers(values, ref["kind"])
    points = np.asarray(ref["points"], dtype=float)
    counts, missing = numeric_counts(numbers, points)
    out: dict[str, Any] = {"missing_share": missing / len(values) if len(values) else 0.0}
    if not ref["points"] or counts.sum() == 0:
        return out
    starts = ref["psi_starts"]
    ref_bins = np.add.reduceat(np.asarray(ref["counts"], dtype=float), starts)
    cur_bins = np.add.reduceat(counts.astype(float), starts)
    stat, p = _ks(ref, counts)
    finite = numbers[np.isfinite(numbers)]
    out.update(
        psi=psi(ref_bins, cur_bins),
        ks=stat,
        ks_pvalue=p,
        mean=float(finite.mean()),
        reference_mean=ref.get("mean"),
        bins_reference=(ref_bins / ref_bins.sum()).tolist(),
        bins_current=(cur_bins / cur_bins.sum()).tolist(),
    )
    return out


def _categorical(ref: dict, values: pd.Series) -> dict[str, Any]:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chisquare

    counts, missing = category_counts(values)
    freq = ref["frequencies"]
    names = list(freq)
    present = sum(counts.values())
    cur = np.array([counts.get(k, 0) for k in names] + [present - sum(counts.get(k, 0) for k in names)], dtype=float)
    expected = np.array([freq[k] for k in names] + [ref["other_share"]], dtype=float)
    new = [] if ref["truncated"] else sorted((k for k in counts if k not in freq), key=lambda k: -counts[k])
    out: dict[str, Any] = {"missing_share": missing / len(values) if len(values) else 0.0, "new_categories": new[:20]}
    if present == 0 or expected.sum() == 0:
        return out
    js = float(jensenshannon(expected, cur / present, base=2))
    smoothed = np.clip(expected, PSI_EPS, None)
    chi = chisquare(cur, smoothed / smoothed.sum() * present)
    out.update(
        psi=psi(expected, cur),
        js=js if math.isfinite(js) else 0.0,
        chi2=float(chi.statistic),
        chi2_pvalue=float(chi.pvalue),
        frequencies_reference=dict(zip(names + ["(other)"], expected.tolist(), strict=True)),
        frequencies_current=dict(zip(names + ["(other)"], (cur / present).tolist(), strict=True)),
    )
    return out


def compare_feature(ref: dict, values: pd.Series, thresholds: Thresholds) -> dict[str, Any]:
    """One feature (or the predictions) against its reference: the statistics and the verdict."""
    kind_now = feature_kind(values)
    out: dict[str, Any] = {"kind": ref["kind"], "reasons": []}
    if ref["kind"] != CATEGORICAL and kind_now == CATEGORICAL:
        parsed = as_numbers(values, ref["kind"])
        unreadable = int(np.count_nonzero(np.isnan(parsed)) - values.isna().sum())
        if unreadable > 0:
            out["reasons"].append(f"type changed: {ref['dtype']} in training, text now ({unreadable} values are not numbers)")
    stats = _categorical(ref, values) if ref["kind"] == CATEGORICAL else _numeric(ref, values)
    out.update(stats)
    reasons = out["reasons"]
    value = out.get("psi")
    if value is not None and value >= thresholds.psi_drift:
        reasons.append(f"PSI {value:.3f} >= {thresholds.psi_drift:g}")
    if out.get("js") is not None and out["js"] >= thresholds.js_drift:
        reasons.append(f"Jensen-Shannon {out['js']:.3f} >= {thresholds.js_drift:g}")
    delta = out["missing_share"] - ref["missing_share"]
    out["missing_delta"] = delta
    if abs(delta) >= thresholds.missing_delta:
        reasons.append(f"missing share {ref['missing_share']:.1%} -> {out['missing_share']:.1%}")
    if thresholds.new_categories and out.get("new_categories"):
        shown = ", ".join(repr(c) for c in out["new_categories"][:5])
        reasons.append(f"new categories: {shown}")
    out["drift"] = bool(reasons)
    out["warn"] = not reasons and value is not None and value >= thresholds.psi_warn
    return out


def check_reference(reference: Any) -> None:
    """Refuse a profile this version cannot read (a clear message, not a KeyError)."""
    from ..errors import UsageError

    if not isinstance(reference, dict) or reference.get("version") != REFERENCE_VERSION:
        got = reference.get("version") if isinstance(reference, dict) else type(reference).__name__
        raise UsageError(
            f"the model's reference profile has version {got!r}; this automl-yaml reads version {REFERENCE_VERSION}",
            hint="train the model again with this version of automl-yaml",
        )


def compare(
    reference: dict[str, Any],
    current: pd.DataFrame,
    *,
    predictions: Any = None,
    scores: dict[str, float] | None = None,
    greater_is_better: dict[str, bool] | None = None,
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """The drift report of ``current`` against ``reference``.

    Args:
        reference: A profile from :func:`automl_yaml.monitor.reference.build_reference`.
        current: The current rows (the model's feature columns; others are listed as new).
        predictions: The model's predictions on ``current`` (prediction drift).
        scores: The model's scores on ``current`` when it carries the target.
        greater_is_better: For each score, whether higher is better (``rmse``: False).
        thresholds: When a change is drift (:class:`Thresholds` defaults otherwise).

    Returns:
        ``{"drift": bool, "features": {...}, "schema": {...}, "prediction": {...},
        "performance": {...}, "reasons": [...]}``: ``drift`` is true when any
        feature, the schema, the predictions or the performance crosses a threshold.
    """
    check_reference(reference)
    thresholds = thresholds or Thresholds()
    ref_features: dict[str, dict] = reference["features"]
    missing = [c for c in ref_features if c not in current.columns]
    new = [str(c) for c in current.columns if str(c) not in ref_features and str(c) != reference.get("target")]
    features = {name: compare_feature(ref, current[name], thresholds) for name, ref in ref_features.items() if name in current.columns}
    reasons = [f"{name}: {'; '.join(f['reasons'])}" for name, f in features.items() if f["drift"]]
    if missing:
        reasons.insert(0, f"columns missing: {', '.join(missing)}")
    report: dict[str, Any] = {
        "rows": int(len(current)),
        "reference_rows": reference.get("rows"),
        "schema": {"missing_columns": missing, "new_columns": new},
        "features": features,
    }
    if predictions is not None and "prediction" in reference:
        pred = pd.Series(np.asarray(predictions))
        if reference["prediction"]["kind"] == CATEGORICAL:
            pred = pred.astype(str).astype(object)
        report["prediction"] = compare_feature(reference["prediction"], pred, thresholds)
        if report["prediction"]["drift"]:
            reasons.append(f"predictions: {'; '.join(report['prediction']['reasons'])}")
    if scores:
        perf: dict[str, Any] = {}
        for name, value in scores.items():
            ref_value = reference.get("scores", {}).get(name)
            if ref_value is None or value is None or not math.isfinite(value):
                continue
            higher = (greater_is_better or {}).get(name, True)
            worse = (ref_value - value) if higher else (value - ref_value)
            relative = worse / abs(ref_value) if ref_value else (math.inf if worse > 0 else 0.0)
            dropped = relative > thresholds.performance_drop
            perf[name] = {"reference": ref_value, "current": float(value), "relative_drop": relative, "drift": dropped}
            if dropped:
                reasons.append(f"performance: {name} {ref_value:.4g} -> {value:.4g} ({relative:.1%} worse)")
        report["performance"] = perf
    report["reasons"] = reasons
    report["drift"] = bool(reasons)
    return report
