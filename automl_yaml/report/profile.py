"""The exploratory profile of a data set: ``profile.json``, PNG plots, one HTML page.

What is exact and what is sampled — the profile must stay fast on millions of
rows, and the numbers a user acts on must be right:

* exact, on **all rows**: row count, missing counts and shares, distinct
  counts, mean / std / min / quartiles / max / skew, IQR outlier counts, top
  categories and their counts, the target's classes;
* on a **seeded sample** of ``options.sample`` rows (all rows when fewer, or
  when ``sample`` is null): the correlation matrices and strongest pairs, the
  associations with the target, the plots;
* on at most :data:`MI_ROWS` rows of that sample: mutual information with the
  target (a k-nearest-neighbours estimate whose cost grows fastest).

Correlations are over numeric and boolean columns: Pearson on pairwise
complete rows, and Spearman as Pearson on ranks (each column ranked with its
missing values left out). The matrices keep at most :data:`MATRIX_COLUMNS`
columns (the most correlated ones); the strongest pairs are over all columns.

Relations with the target are scored two ways: mutual information (any
column type; categories as discrete values) and a classical association in
[0, 1] — |Pearson r| between numbers, the correlation ratio η between a
category and a number (either way round), Cramér's V between two categorical
columns. A categorical column with too many categories for mutual
information to mean anything (more than :data:`MI_MAX_CATEGORIES` with fewer
than :data:`MI_MIN_ROWS_PER_CATEGORY` rows each, e.g. an id) is skipped and
named in ``notes``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_write_json, atomic_write_text

#: Rows used for mutual information (a seeded sub-sample of the profile sample).
MI_ROWS = 5_000
MI_MAX_CATEGORIES = 100
MI_MIN_ROWS_PER_CATEGORY = 5
#: Top categories listed per categorical column.
TOP_VALUES = 10
#: Bins of the target histogram (regression).
HIST_BINS = 20
#: The correlation matrices in ``profile.json`` (and the heatmap) keep at most
#: this many columns, the most correlated ones: two full matrices of 2,000
#: columns were 8 million cells, 300 MB of JSON and a minute to write.
#: ``top_pairs`` is still taken over every column.
MATRIX_COLUMNS = 40

PLOTS = {
    "missing": "missing.png",
    "distributions": "distributions.png",
    "correlations": "correlations.png",
    "target": "target.png",
}


def _options(options):
    from ..spec.models import ProfileSpec

    if options is None or options is True:
        return ProfileSpec()
    if isinstance(options, Mapping):
        return ProfileSpec.model_validate(dict(options))
    return options


# ----------------------------------------------------------------------------- stats


def _num(x) -> float | None:
    """A JSON-safe float (NaN and infinities become None)."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    """numpy's default ("linear") quantile of an already sorted array."""
    pos = q * (sorted_values.size - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, sorted_values.size - 1)
    return float(sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo]))


def _numeric_stats(values: np.ndarray) -> dict[str, Any]:
    """Exact summary statistics of a float array (NaN ignored), plus its distinct count.

    One sort gives the quartiles, min, max, distinct values and the IQR
    outliers (numpy's sort is vectorised and the fastest route to all of them).
    """
    valid = np.sort(values[~np.isnan(values)])
    n = valid.size
    if not n:
        return {k: None for k in ("mean", "std", "min", "q25", "median", "q75", "max", "skew", "outliers")} | {"distinct": 0}
    q25, q50, q75 = (_quantile(valid, q) for q in (0.25, 0.5, 0.75))
    mean = valid.mean()
    d = valid - mean
    m2 = d.dot(d) / n
    std = math.sqrt(m2 * n / (n - 1)) if n > 1 else 0.0
    # The adjusted Fisher-Pearson skewness, as pandas' Series.skew computes it.
    skew = None
    if n > 2 and m2 > 0:
        m3 = (d * d).dot(d) / n
        skew = math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5
    iqr = q75 - q25
    lo, hi = q25 - 1.5 * iqr, q75 + 1.5 * iqr
    outliers = int(np.searchsorted(valid, lo, side="left") + (n - np.searchsorted(valid, hi, side="right")))
    distinct = int(1 + np.count_nonzero(valid[1:] != valid[:-1]))
    return {
        "mean": _num(mean),
        "std": _num(std),
        "min": _num(valid[0]),
        "q25": _num(q25),
        "median": _num(q50),
        "q75": _num(q75),
        "max": _num(valid[-1]),
        "skew": _num(skew),
        "outliers": outliers,
        "distinct": distinct,
    }


def _average_rank(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties averaged, NaN kept (pandas' ``rank()``, several times faster)."""
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    v = x[ok]
    if not v.size:
        return out
    order = np.argsort(v)
    s = v[order]
    first = np.r_[True, s[1:] != s[:-1]]
    group = np.cumsum(first) - 1
    starts = np.r_[np.flatnonzero(first), s.size]
    average = 0.5 * (starts[1:] + starts[:-1] - 1) + 1
    ranks = np.empty(v.size)
    ranks[order] = average[group]
    out[ok] = ranks
    return out


def _value(v: Any) -> Any:
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return _num(v)
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return str(v)
    return v if isinstance(v, (int, str)) or v is None else str(v)


def _top(counts: pd.Series, n_rows: int, limit: int = TOP_VALUES) -> list[dict]:
    return [{"value": _value(k), "count": int(c), "share": _num(c / max(n_rows, 1))} for k, c in counts.head(limit).items()]


def _as_float(s: pd.Series) -> np.ndarray:
    if s.dtype == bool:
        return s.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _datetime(s: pd.Series) -> pd.Series:
    from ..preprocess.columnwise import _to_datetime

    return _to_datetime(s)


def _column_profile(s: pd.Series, ctype: str, missing: int, n_rows: int, sample: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ctype, "missing": int(missing), "missing_share": _num(missing / max(n_rows, 1))}
    if ctype == "numeric":
        values = _as_float(s)
        out.update(_numeric_stats(values))
        non_numeric = int((~pd.isna(s)).sum() - (~np.isnan(values)).sum())
        if non_numeric:
            out["non_numeric"] = non_numeric
    elif ctype in ("categorical", "boolean", "text"):
        counts = s.value_counts(dropna=True)
        out["distinct"] = int(len(counts))
        out["top"] = _top(counts, n_rows)
        if ctype == "text":
            lengths = sample.dropna().astype(str).str.len()
            out["mean_length"] = _num(lengths.mean()) if len(lengths) else None
    elif ctype == "datetime":
        d = s if pd.api.types.is_datetime64_any_dtype(s.dtype) else _datetime(sample)
        d = d.dropna()
        out["distinct"] = int(s.nunique(dropna=True))
        out["min"] = str(d.min()) if len(d) else None
        out["max"] = str(d.max()) if len(d) else None
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            out["unparsed_in_sample"] = int(sample.notna().sum() - len(d))
    else:
        out["distinct"] = int(s.nunique(dropna=True))
    return out


def _target_profile(s: pd.Series, task: str, n_rows: int) -> dict[str, Any]:
    out: dict[str, Any] = {"name": str(s.name), "task": task, "missing": int(s.isna().sum())}
    if task == "classification":
        counts = s.value_counts(dropna=True)
        out["classes"] = _top(counts, int(counts.sum()), limit=len(counts))
        out["imbalance"] = _num(counts.max() / counts.min()) if len(counts) else None
    else:
        values = _as_float(s)
        out.update(_numeric_stats(values))
        del out["distinct"]
        valid = values[np.isfinite(values)]
        if valid.size:
            counts, edges = np.histogram(valid, bins=HIST_BINS)
            out["histogram"] = {"edges": [_num(e) for e in edges], "counts": [int(c) for c in counts]}
    return out


# ----------------------------------------------------------------------- correlations


def _numeric_block(sample: pd.DataFrame, column_types: Mapping[str, str]) -> pd.DataFrame:
    cols = {c: _as_float(sample[c]) for c, t in column_types.items() if t in ("numeric", "boolean") and c in sample}
    if any(t == "boolean" for t in column_types.values()):
        from ..preprocess.columnwise import BooleanEncoder

        for c, t in column_types.items():
            if t == "boolean" and c in sample:
                try:
                    cols[c] = BooleanEncoder().fit_transform(sample[[c]])[:, 0]
                except Exception:  # noqa: BLE001 - a non-binary "boolean" column is simply left out
                    cols.pop(c, None)
    frame = pd.DataFrame(cols, index=sample.index)
    return frame.loc[:, frame.std(skipna=True).fillna(0) > 0]


def _pairs(pearson: pd.DataFrame, spearman: pd.DataFrame, limit: int) -> list[dict]:
    cols = list(pearson.columns)
    a = np.abs(pearson.to_numpy())
    iu = np.triu_indices(len(cols), k=1)
    strength = np.nan_to_num(a[iu], nan=-1.0)
    order = np.argsort(-strength, kind="stable")[:limit]
    return [
        {
            "a": cols[iu[0][k]],
            "b": cols[iu[1][k]],
            "pearson": _num(pearson.iat[iu[0][k], iu[1][k]]),
            "spearman": _num(spearman.iat[iu[0][k], iu[1][k]]),
        }
        for k in order
        if strength[k] >= 0
    ]


def _corr(block: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlations of the columns: pairwise complete rows when some are
    missing (pandas), one matrix product when none are (the same numbers, many
    times faster on thousands of columns)."""
    values = block.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).any():
        return block.corr(method="pearson")
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip(np.corrcoef(values, rowvar=False), -1.0, 1.0)
    return pd.DataFrame(r, index=block.columns, columns=block.columns)


def _matrix_columns(pearson: pd.DataFrame, limit: int) -> list[str]:
    """At most ``limit`` columns, in their order: those most correlated with any other."""
    cols = [str(c) for c in pearson.columns]
    if len(cols) <= limit:
        return cols
    a = np.nan_to_num(np.abs(pearson.to_numpy()), nan=0.0)
    np.fill_diagonal(a, 0.0)
    strongest = np.argsort(-a.max(axis=0), kind="stable")[:limit]
    return [cols[i] for i in sorted(strongest)]


def _matrix(frame: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    return {str(c): {str(r): _num(v) for r, v in frame[c].items()} for c in frame.columns}


# -------------------------------------------------------------------- target relations


def _codes(s: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(s, use_na_sentinel=True)
    return codes


def _eta(categories: np.ndarray, values: np.ndarray) -> float | None:
    """The correlation ratio η of a number on categories (sqrt of between / total variance)."""
    ok = ~np.isnan(values)
    categories, values = categories[ok], values[ok]
    if values.size < 2:
        return None
    total = ((values - values.mean()) ** 2).sum()
    if total <= 0:
        return None
    _, inverse, counts = np.unique(categories, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=values) / counts
    between = (counts * (means - values.mean()) ** 2).sum()
    return math.sqrt(between / total)


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float | None:
    table = pd.crosstab(a, b).to_numpy(dtype=float)
    n = table.sum()
    r, k = table.shape
    if n == 0 or min(r, k) < 2:
        return None
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.nansum((table - expected) ** 2 / expected)
    return math.sqrt(chi2 / (n * (min(r, k) - 1)))


def _relations(
    sample: pd.DataFrame, target: str, task: str, column_types: Mapping[str, str], seed: int, limit: int, notes: list[str]
) -> list[dict]:
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    frame = sample[sample[target].notna()]
    if len(frame) < 3:
        notes.append("too few rows with a target to relate columns to it")
        return []
    y_raw = frame[target]
    if task == "classification":
        y = _codes(y_raw)
    else:
        y = _as_float(y_raw)
    mi_idx = np.arange(len(frame))
    if len(frame) > MI_ROWS:
        mi_idx = np.sort(np.random.default_rng(seed).choice(len(frame), MI_ROWS, replace=False))
    features, discrete, names, assoc = [], [], [], {}
    for col, ctype in column_types.items():
        if col == target or col not in frame:
            continue
        s = frame[col]
        if ctype in ("numeric", "boolean", "datetime"):
            if ctype == "datetime":
                d = _datetime(s)
                x = ((d - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float, na_value=np.nan)
            elif ctype == "boolean":
                x = _codes(s).astype(float)
                x[x < 0] = np.nan
            else:
                x = _as_float(s)
            if np.isnan(x).all() or np.nanstd(x) == 0:
                continue
            if task == "classification":
                assoc[col] = ("correlation ratio", _eta(y, x))
            else:
                ok = ~np.isnan(x) & ~np.isnan(y)
                r = np.corrcoef(x[ok], y[ok])[0, 1] if ok.sum() > 2 else np.nan
                assoc[col] = ("|pearson r|", _num(abs(r)))
            x_mi = x[mi_idx]
            x_mi = np.where(np.isnan(x_mi), np.nanmedian(x_mi) if (~np.isnan(x_mi)).any() else 0.0, x_mi)
            features.append(x_mi)
            discrete.append(ctype == "boolean")
            names.append(col)
        elif ctype == "categorical":
            codes = _codes(s)
            k = int(codes.max()) + 1 if codes.size else 0
            if task == "classification":
                assoc[col] = ("cramér's v", _cramers_v(codes, y))
            else:
                assoc[col] = ("correlation ratio", _eta(codes, y))
            n_mi = len(mi_idx)
            if k > MI_MAX_CATEGORIES and n_mi / max(k, 1) < MI_MIN_ROWS_PER_CATEGORY:
                notes.append(
                    f"'{col}': {k} categories for {n_mi} sampled rows, too many for mutual information (an identifier?); it is not scored"
                )
                continue
            features.append(codes[mi_idx].astype(float))  # missing is its own category (-1)
            discrete.append(True)
            names.append(col)
    out = []
    mi = np.full(len(names), np.nan)
    if names:
        X = np.column_stack(features)
        y_mi = y[mi_idx]
        ok = ~np.isnan(y_mi) if task == "regression" else np.ones(len(y_mi), dtype=bool)
        func = mutual_info_classif if task == "classification" else mutual_info_regression
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mi = func(X[ok], y_mi[ok], discrete_features=np.asarray(discrete), random_state=seed)
    for j, col in enumerate(names):
        kind, value = assoc.get(col, (None, None))
        out.append(
            {"column": col, "type": column_types[col], "mutual_information": _num(mi[j]), "association": _num(value), "measure": kind}
        )
    for col, (kind, value) in assoc.items():
        if col not in names:
            out.append({"column": col, "type": column_types[col], "mutual_information": None, "association": _num(value), "measure": kind})
    out.sort(key=lambda r: (-(r["mutual_information"] or 0.0), -(r["association"] or 0.0), r["column"]))
    return out[:limit]


# ----------------------------------------------------------------------------- profile


def profile_frame(frame: pd.DataFrame, *, target: str, task: str, column_types: dict[str, str], options, seed: int = 0) -> dict:
    """The profile of ``frame`` as a JSON-ready dict.

    Args:
        frame: The assembled table, target included.
        target: The target column.
        task: ``classification`` or ``regression``.
        column_types: The type of every feature column (``numeric``,
            ``categorical``, ``boolean``, ``datetime``, ``text``; ``ignore`` ones
            are profiled as plain columns). Columns not listed are profiled with
            a type guessed from their dtype.
        options: A :class:`~automl_yaml.spec.models.ProfileSpec` (``sample``,
            ``top_correlations`` are used here).
        seed: Seeds the sample.

    Returns:
        ``{"rows", "columns", "feature_columns", "sample_rows", "seed",
        "target", "features", "correlations", "target_relations", "notes"}``
        (see the module docstring for what is exact); ``columns`` counts the
        target too, ``feature_columns`` does not.
    """
    opts = _options(options)
    if target not in frame.columns:
        from ..errors import DataError
        from ..errors import suggestion_hint as _hint

        raise DataError(f"profile: no target column '{target}'", hint=_hint(target, map(str, frame.columns)), usage=True)
    n_rows = len(frame)
    types = {c: column_types.get(c) or _guess_type(frame[c]) for c in frame.columns if c != target}
    if opts.sample is not None and n_rows > opts.sample:
        idx = np.sort(np.random.default_rng(seed).choice(n_rows, opts.sample, replace=False))
        sample = frame.iloc[idx]
    else:
        sample = frame
    missing = frame.isna().sum()  # exact: every row
    notes: list[str] = []
    features = {str(c): _column_profile(frame[c], t, int(missing[c]), n_rows, sample[c]) for c, t in types.items()}

    block = _numeric_block(sample, types)
    correlations: dict[str, Any] = {"columns": [str(c) for c in block.columns]}
    if block.shape[1] >= 2:
        pearson = _corr(block)
        ranks = pd.DataFrame({c: _average_rank(block[c].to_numpy()) for c in block.columns}, index=block.index)
        spearman = _corr(ranks)
        top_pairs = _pairs(pearson, spearman, opts.top_correlations)
        keep = _matrix_columns(pearson, MATRIX_COLUMNS)
        if len(keep) < block.shape[1]:
            notes.append(
                f"the correlation matrices keep the {len(keep)} of {block.shape[1]:,} numeric columns "
                "with the strongest correlations; the strongest pairs are over all of them"
            )
        correlations.update(
            {
                "columns": keep,
                "n_columns": int(block.shape[1]),
                "pearson": _matrix(pearson.loc[keep, keep]),
                "spearman": _matrix(spearman.loc[keep, keep]),
                "top_pairs": top_pairs,
            }
        )
    else:
        correlations.update({"pearson": {}, "spearman": {}, "top_pairs": []})

    profile = {
        "rows": n_rows,
        "columns": int(frame.shape[1]),
        "feature_columns": len(features),
        "sample_rows": int(len(sample)),
        "seed": seed,
        "target": _target_profile(frame[target], task, n_rows),
        "features": features,
        "correlations": correlations,
        "target_relations": _relations(sample, target, task, types, seed, opts.top_correlations, notes),
        "notes": notes,
    }
    if len(sample) < n_rows:
        notes.append(f"correlations, relations with the target and plots use a seeded sample of {len(sample):,} of {n_rows:,} rows")
    return profile


def _guess_type(s: pd.Series) -> str:
    if s.dtype == bool:
        return "boolean"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "datetime"
    return "categorical"


# ------------------------------------------------------------------------------ output


def write_profile(
    frame: pd.DataFrame,
    *,
    target: str,
    task: str,
    column_types: dict[str, str],
    out_dir: Path,
    options,
    console=None,
    seed: int = 0,
) -> dict:
    """Profile ``frame`` and write ``profile.json``, the plots and ``profile.html`` into ``out_dir``.

    Every file is written atomically. Plots are written when ``options.plots``,
    the page when ``options.html`` (it embeds the plots, so it is one file).
    With a ``rich`` ``console``, a compact table of the columns is printed.

    Returns:
        The profile dict, with ``"files"``: the names written, relative to ``out_dir``.
    """
    opts = _options(options)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = profile_frame(frame, target=target, task=task, column_types=column_types, options=opts, seed=seed)
    files: dict[str, str] = {}
    if opts.plots:
        files.update(_write_plots(frame, profile, target, task, out_dir, opts, seed))
    if opts.html:
        atomic_write_text(out_dir / "profile.html", profile_html(profile, {k: out_dir / v for k, v in files.items()}))
        files["html"] = "profile.html"
    files["json"] = "profile.json"
    profile["files"] = files
    atomic_write_json(out_dir / "profile.json", _json_safe(profile))
    if console is not None:
        print_profile(profile, console)
    return profile


def _write_plots(frame, profile, target, task, out_dir: Path, opts, seed: int) -> dict[str, str]:
    from . import plots

    n_rows = profile["rows"]
    if opts.sample is not None and n_rows > opts.sample:
        idx = np.sort(np.random.default_rng(seed).choice(n_rows, opts.sample, replace=False))
        sample = frame.iloc[idx]
    else:
        sample = frame
    files = {}
    plots.missing_plot(
        {c: f["missing"] for c, f in profile["features"].items()} | {target: profile["target"]["missing"]},
        n_rows,
        out_dir / PLOTS["missing"],
    )
    files["missing"] = PLOTS["missing"]
    numeric = [c for c, f in profile["features"].items() if f["type"] == "numeric"]
    plots.distributions_plot(sample[numeric] if numeric else pd.DataFrame(index=sample.index), out_dir / PLOTS["distributions"])
    files["distributions"] = PLOTS["distributions"]
    pearson = profile["correlations"].get("pearson") or {}
    if pearson:
        cols = profile["correlations"]["columns"]
        corr = pd.DataFrame({c: [pearson[c][r] for r in cols] for c in cols}, index=cols).astype(float)
        plots.heatmap_plot(corr, out_dir / PLOTS["correlations"], title="Pearson correlation")
        files["correlations"] = PLOTS["correlations"]
    plots.target_plot(sample[target], task, out_dir / PLOTS["target"])
    files["target"] = PLOTS["target"]
    return files


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return _num(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


# -------------------------------------------------------------------------- rendering


def _summary(f: dict) -> str:
    from .html import fmt

    if f["type"] == "numeric":
        if f.get("mean") is None:
            return "all missing"
        return f"mean {fmt(f['mean'], 3)} ± {fmt(f['std'], 3)}, [{fmt(f['min'], 3)}, {fmt(f['max'], 3)}]"
    if f["type"] == "datetime":
        return f"{f.get('min')} … {f.get('max')}"
    top = f.get("top") or []
    if not top:
        return ""
    shown = ", ".join(f"{t['value']} ({100 * (t['share'] or 0):.0f}%)" for t in top[:3])
    return shown


def _percent(share: float | None) -> float:
    """A share as a percentage with two decimals, or two significant digits when those would round it to 0 (1 in 100,000: 0.001)."""
    pct = 100 * (share or 0.0)
    return round(pct, 2) if pct == 0 or pct >= 0.01 else float(f"{pct:.2g}")


def _missing_text(count: int, share: float | None) -> str:
    """``"0"``, ``"1 (<0.1%)"``, ``"120 (4.8%)"``: a column with a missing value never reads 0.0 %."""
    if not count:
        return "0"
    pct = 100 * (share or 0.0)
    shown = "<0.1%" if pct < 0.1 else ">99.9%" if 99.9 < pct < 100 else f"{pct:.1f}%"
    return f"{count:,} ({shown})"


def _target_row(profile: dict) -> dict:
    """The target as a row of the columns' table: its missing values (rows the run drops) are counted too."""
    t = profile["target"]
    share = t["missing"] / max(profile["rows"], 1)
    if t["task"] == "classification":
        summary, distinct = _summary({"type": "categorical", "top": t.get("classes")}), len(t.get("classes") or [])
    else:
        summary, distinct = _summary({"type": "numeric", **t}), None
    return {"column": t["name"], "type": f"target ({t['task']})", "missing": t["missing"], "missing_share": share, "distinct": distinct, "summary": summary}


def columns_frame(profile: dict) -> pd.DataFrame:
    """One row per column, the target last: type, missing, missing %, distinct, summary, outliers."""
    rows = []
    for name, f in profile["features"].items():
        rows.append(
            {
                "column": name,
                "type": f["type"],
                "missing": f["missing"],
                "missing %": _percent(f["missing_share"]),
                "distinct": f.get("distinct"),
                "outliers (IQR)": f.get("outliers"),
                "summary": _summary(f),
            }
        )
    target = _target_row(profile)
    rows.append({**{k: v for k, v in target.items() if k != "missing_share"}, "missing %": _percent(target["missing_share"]), "outliers (IQR)": None})
    return pd.DataFrame(rows, columns=["column", "type", "missing", "missing %", "distinct", "outliers (IQR)", "summary"])


def _shape(profile: dict) -> str:
    """``7 feature columns + target 'species'``: the target is not one of the features the table lists."""
    n = len(profile["features"])
    return f"{n:,} feature column{'s' if n != 1 else ''} + target '{profile['target']['name']}'"


def print_profile(profile: dict, console) -> None:
    """A compact ``rich`` table of the columns."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    t = profile["target"]
    table = Table(title=f"Profile: {profile['rows']:,} rows, {_shape(profile)} ({t['task']})")
    for col, justify in (("column", "left"), ("type", "left"), ("missing", "right"), ("distinct", "right"), ("summary", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    rows = [
        {"column": n, "type": f["type"], "missing": f["missing"], "missing_share": f["missing_share"], "distinct": f.get("distinct"), "summary": _summary(f)}
        for n, f in profile["features"].items()
    ]
    for row in [*rows, _target_row(profile)]:
        table.add_row(
            Text(str(row["column"])),  # Text, not markup: a column "weight [kg]" keeps its unit
            row["type"],
            _missing_text(row["missing"], row["missing_share"]),
            f"{row['distinct']:,}" if row["distinct"] is not None else "",
            Text(str(row["summary"])),
        )
    console.print(table)
    for note in profile.get("notes", []):
        console.print(f"[dim]note: {escape(str(note))}[/dim]")


def profile_html(profile: dict, plots: Mapping[str, Path] | None = None) -> str:
    """The self-contained HTML page of a profile (plots embedded when given)."""
    from .html import Section, image, page

    plots = dict(plots or {})
    t = profile["target"]
    overview = {
        "rows": profile["rows"],
        "feature columns": len(profile["features"]),
        "target": t["name"],
        "task": t["task"],
        "rows sampled for correlations and plots": profile["sample_rows"],
        "missing cells": sum(f["missing"] for f in profile["features"].values()) + t["missing"],
    }
    sections = [Section("Overview", [overview, *profile.get("notes", [])])]
    cols = Section("Columns", [columns_frame(profile)])
    if "missing" in plots:
        cols = Section("Columns", [columns_frame(profile), image(plots["missing"], "missing values per column")])
    sections.append(cols)
    numeric = {n: f for n, f in profile["features"].items() if f["type"] == "numeric"}
    if numeric:
        stats = pd.DataFrame(
            [
                {"column": n, **{k: f.get(k) for k in ("mean", "std", "min", "q25", "median", "q75", "max", "skew", "outliers")}}
                for n, f in numeric.items()
            ]
        )
        blocks: list[Any] = [stats]
        if "distributions" in plots:
            blocks.append(image(plots["distributions"], "distributions of the numeric columns"))
        sections.append(Section("Numeric columns", blocks))
    categorical = {n: f for n, f in profile["features"].items() if f.get("top")}
    if categorical:
        rows = [
            {"column": n, "value": v["value"], "count": v["count"], "share": v["share"]}
            for n, f in categorical.items()
            for v in f["top"][:5]
        ]
        sections.append(Section("Top categories", [pd.DataFrame(rows)]))
    target_blocks: list[Any] = []
    if t["task"] == "classification":
        target_blocks.append(pd.DataFrame(t.get("classes", [])))
    else:
        target_blocks.append({k: t.get(k) for k in ("mean", "std", "min", "median", "max", "skew")})
    if "target" in plots:
        target_blocks.append(image(plots["target"], "target"))
    sections.append(Section(f"Target: {t['name']}", target_blocks))
    corr = profile["correlations"]
    corr_blocks: list[Any] = []
    if corr.get("top_pairs"):
        corr_blocks.append(pd.DataFrame(corr["top_pairs"]))
    else:
        corr_blocks.append("fewer than two varying numeric columns")
    if "correlations" in plots:
        corr_blocks.append(image(plots["correlations"], "correlation heatmap"))
    sections.append(Section("Correlations", corr_blocks))
    rel = profile.get("target_relations") or []
    sections.append(Section("Relations with the target", [pd.DataFrame(rel)] if rel else ["none computed"]))
    return page(f"Profile of {t['name']}", sections, subtitle=f"{profile['rows']:,} rows × {_shape(profile)}")
