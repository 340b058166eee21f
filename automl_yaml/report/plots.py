"""PNG plots for the reports.

matplotlib is imported inside each function, and only its object-oriented
``Figure`` API is used (rendered by the Agg canvas): no pyplot, no global
backend switch, no window — safe in worker processes and servers. Every plot
is written atomically (:func:`automl_yaml.io.atomic_path`) and its path returned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path

_BLUE = "#4c72b0"
_DPI = 100


def _figure(width: float, height: float, layout: str | None = "constrained"):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=_DPI, layout=layout)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=_DPI)
    return path


def _short(name: str, n: int = 28) -> str:
    name = str(name)
    return name if len(name) <= n else name[: n - 1] + "…"


def missing_plot(missing: Mapping[str, int], n_rows: int, path: str | Path, *, max_columns: int = 40) -> Path:
    """A horizontal bar per column: its share of missing values (sorted; the
    ``max_columns`` with the most missing values when there are more columns)."""
    items = sorted(missing.items(), key=lambda kv: (-kv[1], str(kv[0])))
    total = len(items)
    items = items[:max_columns]
    n = max(len(items), 1)
    fig = _figure(7, min(0.25 * n + 1.2, 30))
    ax = fig.add_subplot()
    names = [_short(k) for k, _ in items][::-1]
    shares = [100.0 * v / max(n_rows, 1) for _, v in items][::-1]
    ax.barh(range(len(items)), shares, color=_BLUE)
    ax.set_yticks(range(len(items)), names, fontsize=8)
    ax.set_xlabel("missing values (% of rows)")
    ax.set_xlim(0, max(max(shares, default=0) * 1.15, 1))
    for i, (share, (_, count)) in enumerate(zip(shares, items[::-1], strict=True)):
        if count:
            ax.text(share, i, f" {count:,}", va="center", fontsize=7)
    ax.set_title("Missing values per column" + (f" (the {len(items)} of {total:,} with the most)" if total > len(items) else ""))
    return _save(fig, path)


def distributions_plot(frame: pd.DataFrame, path: str | Path, *, bins: int = 30, max_columns: int = 36) -> Path:
    """A grid of histograms, one per numeric column of ``frame`` (at most ``max_columns``)."""
    from matplotlib.ticker import MaxNLocator

    columns = list(frame.columns)[:max_columns]
    n = max(len(columns), 1)
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    # A fixed grid (no layout solver) and one filled step patch per histogram
    # instead of one rectangle per bin: several times faster to render.
    fig = _figure(3.0 * ncols, 2.3 * nrows, layout=None)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.6 / (2.3 * nrows), top=1 - 0.45 / (2.3 * nrows), hspace=0.55, wspace=0.3)
    for i, col in enumerate(columns):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values = values[np.isfinite(values)]
        if values.size:
            counts, edges = np.histogram(values, bins=bins)
            ax.stairs(counts, edges, fill=True, color=_BLUE)
        ax.set_title(_short(col, 32), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.tick_params(labelsize=7)
    if not columns:
        fig.add_subplot().text(0.5, 0.5, "no numeric columns", ha="center", va="center")
    return _save(fig, path)


def heatmap_plot(corr: pd.DataFrame, path: str | Path, *, title: str = "Correlation", max_columns: int = 40) -> Path:
    """A correlation heatmap (-1 blue, +1 red), annotated when small."""
    corr = corr.iloc[:max_columns, :max_columns]
    n = max(len(corr), 1)
    size = min(max(4.0, 0.35 * n + 2.5), 18)
    fig = _figure(size + 1, size)
    ax = fig.add_subplot()
    im = ax.imshow(corr.to_numpy(dtype=float), cmap="coolwarm", vmin=-1, vmax=1)
    labels = [_short(c, 20) for c in corr.columns]
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                v = corr.iat[i, j]
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title)
    return _save(fig, path)


def target_plot(target: pd.Series, task: str, path: str | Path, *, bins: int = 40, max_classes: int = 40) -> Path:
    """Class counts (classification) or a histogram (regression) of the target."""
    fig = _figure(7, 3.5)
    ax = fig.add_subplot()
    name = _short(target.name if target.name is not None else "target", 40)
    if task == "classification":
        counts = target.value_counts(dropna=False).head(max_classes)
        labels = [_short("missing" if pd.isna(k) else k, 16) for k in counts.index]
        ax.bar(range(len(counts)), counts.to_numpy(), color=_BLUE)
        ax.set_xticks(
            range(len(counts)), labels, rotation=45 if len(counts) > 6 else 0, ha="right" if len(counts) > 6 else "center", fontsize=8
        )
        ax.set_ylabel("rows")
        ax.set_title(f"Classes of {name}")
    else:
        values = pd.to_numeric(target, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values = values[np.isfinite(values)]
        if values.size:
            counts, edges = np.histogram(values, bins=bins)
            ax.stairs(counts, edges, fill=True, color=_BLUE)
        ax.set_ylabel("rows")
        ax.set_title(f"Distribution of {name}")
    return _save(fig, path)
