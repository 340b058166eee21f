"""What a run writes for people: leaderboard, summary, plots, an HTML report.

* ``leaderboard.csv`` — every trial: rank, status, model, its parameters, CV
  mean and std of every metric (display values), fit time, duration, the
  Pareto mark of multi-objective searches, the error of failed trials;
* ``summary.json`` — the best configuration, CV and holdout scores, timings,
  trial counts, data facts and library versions;
* ``plots/*.png`` — optimisation history, parameter importances (where the
  strategy gives them), confusion matrix and ROC curve or residuals, feature
  importance (permutation importance on the held-out set);
* ``report.html`` — all of it on one self-contained page.

Every file is written atomically (:mod:`automl_yaml.io`).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_path, atomic_write_json


def leaderboard(results, metrics, *, best: int | None, pareto: list[int], space) -> pd.DataFrame:
    """One row per trial, best first (failed trials last)."""
    from ..search.space import label

    rows = []
    primary = metrics[0]
    for r in results:
        key, params, options = space.split(r.config) if r.config else ("", {}, {})
        row: dict[str, Any] = {"trial": r.number, "status": r.status, "model": key}
        for m in metrics:
            s = (r.scores or {}).get(m.name) or {}
            row[f"{m.name}_mean"] = s.get("mean")
            row[f"{m.name}_std"] = s.get("std")
        row["fit_time_s"] = r.fit_time
        row["duration_s"] = r.duration
        if len(metrics) > 1:
            row["pareto"] = r.number in pareto
        row["best"] = r.number == best
        for name, value in r.config.items():
            if name == "model":
                continue
            row[f"param.{name}"] = value if isinstance(value, (int, float, str, bool)) or value is None else label(value)
        row["error"] = r.error
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    col = f"{primary.name}_mean"
    ascending = not primary.greater_is_better if not primary.objective_only else True
    df["_ok"] = df["status"] == "ok"
    df = df.sort_values(["_ok", col, "trial"], ascending=[False, ascending, True], na_position="last").drop(columns="_ok")
    rank = pd.array(range(1, len(df) + 1), dtype="Int64")
    rank[(df["status"] != "ok").to_numpy()] = pd.NA
    df.insert(0, "rank", rank)
    return df.reset_index(drop=True)


def write_leaderboard(df: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return path


def write_summary(summary: dict, path: Path) -> Path:
    return atomic_write_json(path, _clean(summary))


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, (np.floating,)):
        return _clean(float(x))
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


# ------------------------------------------------------------------------ plots


def import_matplotlib() -> None:
    """What the plots import: matplotlib's figures, its Agg renderer, and pyplot (scikit-learn's displays import it).

    The plots use matplotlib's object-oriented API (``Figure``, rendered by
    Agg on ``savefig``), never pyplot's figures: drawing them in the run's
    process (a notebook, a script that plots too) neither picks nor changes
    its backend, and leaves no figure open.
    """
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import matplotlib.pyplot  # noqa: F401 - imported, not used: it picks a backend only on a pyplot figure


def _figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float]):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols)


def preload_plots() -> None:
    """Import matplotlib and draw one small figure, off screen (the side process's warm-up: fonts, renderer)."""
    import io

    import_matplotlib()
    fig, ax = _figure(figsize=(2, 2))
    ax.plot([0, 1], [0, 1], label="warm-up")
    ax.set_title("warm-up")
    ax.legend()
    fig.savefig(io.BytesIO(), dpi=110, bbox_inches="tight", format="png")


def _save(fig, path: Path) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    return path


def plot_history(results, metric, path: Path) -> Path | None:
    """Each trial's CV score, and the best so far."""
    ok = [r for r in sorted(results, key=lambda r: r.number) if r.status == "ok" and metric.name in (r.scores or {})]
    if not ok:
        return None
    x = [r.number for r in ok]
    y = [r.scores[metric.name]["mean"] for r in ok]
    better = max if (metric.greater_is_better and not metric.objective_only) else min
    best, run = [], None
    for v in y:
        run = v if run is None else better(run, v)
        best.append(run)
    fig, ax = _figure(figsize=(7, 3.6))
    ax.scatter(x, y, s=14, alpha=0.6, label="trial")
    ax.step(x, best, where="post", color="C3", label="best so far")
    failed = [r.number for r in results if r.status != "ok"]
    if failed:
        lo = min(y)
        ax.scatter(failed, [lo] * len(failed), marker="x", color="grey", s=18, label="failed / pruned")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"CV {metric.name}")
    ax.set_title("optimisation history")
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_importances(importances: dict[str, float], path: Path, title: str) -> Path | None:
    if not importances:
        return None
    items = sorted(importances.items(), key=lambda kv: kv[1])[-20:]
    fig, ax = _figure(figsize=(7, 0.3 * len(items) + 1.2))
    ax.barh([k for k, _ in items], [v for _, v in items], color="C0")
    ax.set_title(title)
    return _save(fig, path)


def plot_confusion(y_true, y_pred, classes, path: Path) -> Path:
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = _figure(figsize=(4.5 + 0.3 * len(classes), 4 + 0.3 * len(classes)))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=list(classes), ax=ax, colorbar=False, xticks_rotation=45)
    ax.set_title("confusion matrix (held-out test set)")
    return _save(fig, path)


def plot_roc(y_true_codes, scores, classes, path: Path) -> Path | None:
    from sklearn.metrics import RocCurveDisplay

    fig, ax = _figure(figsize=(5, 4.5))
    if scores.ndim == 1 or scores.shape[1] == 1 or len(classes) == 2:
        s = scores if scores.ndim == 1 else scores[:, -1]
        RocCurveDisplay.from_predictions(y_true_codes, s, ax=ax, name=f"{classes[-1]} vs {classes[0]}")
    else:
        for i, c in enumerate(classes[:10]):
            RocCurveDisplay.from_predictions((np.asarray(y_true_codes) == i).astype(int), scores[:, i], ax=ax, name=str(c))
    # scikit-learn's labels say "(Positive label: 1)": the codes, not the classes
    positive = f"positive: {classes[-1]}" if len(classes) == 2 or scores.ndim == 1 or scores.shape[1] == 1 else "each class vs the rest"
    ax.set_xlabel(f"False positive rate ({positive})")
    ax.set_ylabel(f"True positive rate ({positive})")
    ax.set_title("ROC (held-out test set)")
    return _save(fig, path)


def plot_residuals(y_true, y_pred, path: Path) -> Path:
    from sklearn.metrics import PredictionErrorDisplay

    fig, axes = _figure(1, 2, figsize=(9, 4))
    PredictionErrorDisplay.from_predictions(y_true, y_pred, kind="actual_vs_predicted", ax=axes[0], subsample=2000, random_state=0)
    PredictionErrorDisplay.from_predictions(y_true, y_pred, kind="residual_vs_predicted", ax=axes[1], subsample=2000, random_state=0)
    axes[0].set_title("actual vs predicted (test)")
    axes[1].set_title("residuals (test)")
    return _save(fig, path)


def model_importance(pipeline) -> dict[str, float] | None:
    """The final estimator's own importances (trees: ``feature_importances_``;
    linear models: mean ``|coef_|``) by the names of the features it sees, or
    None when it has none. Free, where permutation importance costs many predictions."""
    from ..preprocess.pipeline import selected_features, unwrap

    est = unwrap(pipeline)[-1]
    values = getattr(est, "feature_importances_", None)
    if values is None:
        coef = getattr(est, "coef_", None)
        if coef is None:
            return None
        values = np.abs(np.atleast_2d(np.asarray(coef, dtype=float))).mean(axis=0)
    names = selected_features(pipeline)
    values = np.asarray(values, dtype=float).ravel()
    if len(names) != len(values):
        return None
    return {str(n): float(v) for n, v in zip(names, values)}


def feature_importance(
    model, X, y, scorer, *, seed: int, max_rows: int = 1000, n_repeats: int = 3, max_columns: int = 50
) -> dict[str, float]:
    """Permutation importance of each input column on (a sample of) the held-out set.

    Every permuted column costs ``n_repeats`` predictions of the sample: with
    more than ``max_columns`` columns, only the ``max_columns`` most related
    to the model's predictions are permuted (:func:`related_columns`); 2,000
    columns took minutes, for a plot that shows 20.
    """
    from sklearn.inspection import permutation_importance

    if len(X) > max_rows:
        idx = np.random.default_rng(seed).choice(len(X), max_rows, replace=False)
        X, y = X.iloc[idx], (y.iloc[idx] if hasattr(y, "iloc") else np.asarray(y)[idx])
    if X.shape[1] <= max_columns:
        res = permutation_importance(model, X, y, scoring=scorer, n_repeats=n_repeats, random_state=seed, n_jobs=1)
        return {str(c): float(v) for c, v in zip(X.columns, res.importances_mean)}
    rng = np.random.default_rng(seed)
    base = scorer(model, X, y)
    out: dict[str, float] = {}
    for c in related_columns(model, X, max_columns):
        values = X[c].to_numpy()
        drops = []
        for _ in range(n_repeats):
            shuffled = X.copy()
            shuffled[c] = values[rng.permutation(len(values))]
            drops.append(base - scorer(model, shuffled, y))
        out[str(c)] = float(np.mean(drops))
    return out


def related_columns(model, X: pd.DataFrame, k: int) -> list:
    """The ``k`` columns of ``X`` most related to ``model``'s predictions on it:
    |Spearman| for numbers, the correlation ratio for other columns."""
    from .profile import _eta

    pred = None
    if hasattr(model, "predict_proba"):
        with contextlib.suppress(Exception):
            pred = np.asarray(model.predict_proba(X), dtype=float)[:, -1]
    if pred is None:
        pred = np.asarray(model.predict(X), dtype=float).ravel()
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c].dtype) and not pd.api.types.is_bool_dtype(X[c].dtype)]
    strength = pd.Series(0.0, index=X.columns)
    if numeric:
        ranks = X[numeric].astype(float).rank()
        with np.errstate(invalid="ignore", divide="ignore"):
            strength[numeric] = ranks.corrwith(pd.Series(pred, index=X.index).rank()).abs().fillna(0.0).to_numpy()
    for c in X.columns.difference(numeric, sort=False):
        codes, _ = pd.factorize(X[c], use_na_sentinel=True)
        strength[c] = _eta(codes, pred) or 0.0
    order = np.argsort(-strength.to_numpy(), kind="stable")[:k]
    return [X.columns[i] for i in sorted(order)]


def write_html(path: Path, summary: dict, board: pd.DataFrame, plots: dict[str, Path]) -> Path:
    """The run report: one self-contained page (see :mod:`automl_yaml.report.html`)."""
    from ..io import atomic_write_text
    from ..search.driver import describe_stop
    from .html import Section, image, page

    best = summary["best"]
    overview = {
        "task": f"{summary['task']} — {summary['task_reason']}",
        "strategy": summary["strategy"],
        "trials": ", ".join(f"{v} {k}" for k, v in summary["trials"].items() if v),
        "search ended": describe_stop(summary["stopped"], summary["strategy"]),
        "train / test rows": f"{summary['data']['rows_train']:,} / {summary['data']['rows_test']:,}",
        "features": summary["data"]["features"],
    }
    validation = summary.get("validation") or {}
    if validation:
        overview["validation"] = f"{validation['description']} — {validation['reason']}"
    one_split = validation.get("method") == "holdout"  # no spread to show
    same = best["model"] == best["estimator"]  # a model listed by its estimator's name: said once
    best_block = {"trial": best["trial"], "model": best["model"] if same else f"{best['model']} ({best['estimator']})"}
    best_block.update({f"param {k}": v for k, v in best["params"].items()})
    best_block.update({f"option {k}": v for k, v in (best["options"] or {}).items()})
    for name, s in (best["cv"] or {}).items():
        if s:
            if s.get("mean") is None:
                best_block[f"CV {name}"] = "n/a"
            elif one_split:
                best_block[f"validation {name}"] = f"{s['mean']:.4f}"
            else:
                best_block[f"CV {name}"] = f"{s['mean']:.4f} ± {s.get('std'):.4f}"
    holdout = {f"test {k}": v for k, v in summary["holdout"].items()}
    titles = {
        "history": "Optimisation history",
        "param_importance": "Parameter importance",
        "confusion_matrix": "Confusion matrix",
        "roc": "ROC curve",
        "residuals": "Residuals",
        "feature_importance": "Feature importance",
    }
    figures = [image(p, alt=titles.get(k, k), caption=titles.get(k, k)) for k, p in plots.items() if Path(p).exists()]
    sections = [
        Section("Overview", [overview]),
        Section("Best model", [best_block, holdout]),
        Section("Plots", figures),
        Section("Leaderboard", [board.head(200)]),
        Section("Versions", [summary["versions"]]),
    ]
    if summary.get("selected_features"):
        # what reaches the model after encoding (one-hot columns) and any selection: not a "selection" when none was asked
        features = summary["selected_features"]
        sections.insert(2, Section(f"Features the model sees ({len(features)}, after encoding and selection)", [", ".join(map(str, features))]))
    html = page(f"automl-yaml run: {summary['name']}", sections, subtitle=f"spec hash {summary['spec_hash']}")
    return atomic_write_text(path, html)
