"""Cost of the compiled preprocessing and of the profile, as ratios to plain pandas / scikit-learn.

    python benchmarks/pipeline.py [--rows 200000] [--profile-rows 1000000] [--runs 3]

Two measurements, each best of ``--runs``, interleaved in the same process
(the machine is shared and noisy, so only ratios mean something):

1. **pipeline**: fit on all rows, then transform them, with the preprocessing
   that :func:`automl_yaml.preprocess.build_pipeline` compiles for the default
   spec (no ``preprocess`` section: median imputation + standard scaling,
   most-frequent imputation + one-hot with ``max_categories=20``), on 200,000
   rows x 30 columns (20 numeric, 10 categorical, 5% missing, seeded) —
   against a hand-written ``ColumnTransformer`` with the same steps and the
   same pandas output. Also shown: the hand-written one with NumPy output.
   Target: ratio <= 1.1.
2. **profile**: :func:`automl_yaml.report.profile.profile_frame` on 1,000,000
   rows x 20 columns against ``DataFrame.describe(include="all")`` plus
   ``DataFrame.corr(numeric_only=True)``. Target: ratio < 3. Also shown:
   ``write_profile`` (JSON, four PNG plots, the HTML page).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"pipeline": 1.1, "profile": 3.0}


def mixed_frame(rows: int, numeric: int, categorical: int, *, missing: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Seeded mixed data: normal/lognormal numbers, categories of 3..60 levels (skewed), ``missing`` NaN share."""
    rng = np.random.default_rng(seed)
    data = {}
    for i in range(numeric):
        col = rng.normal(i, 1 + i % 3, rows) if i % 2 == 0 else rng.lognormal(0, 1, rows)
        col[rng.random(rows) < missing] = np.nan
        data[f"num{i}"] = col
    for i in range(categorical):
        levels = np.array([f"c{i}_{j}" for j in range(3 + 6 * i)], dtype=object)
        p = 1.0 / np.arange(1, len(levels) + 1)
        col = rng.choice(levels, rows, p=p / p.sum())
        col[rng.random(rows) < missing] = None
        data[f"cat{i}"] = pd.array(col, dtype="str")
    return pd.DataFrame(data)


def _best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_pipeline(rows: int, runs: int) -> dict[str, float]:
    from sklearn.compose import ColumnTransformer
    from sklearn.dummy import DummyClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from automl_yaml.preprocess import build_pipeline
    from automl_yaml.spec import load_spec

    X = mixed_frame(rows, 20, 10)
    y = np.random.default_rng(1).integers(0, 2, rows)
    types = {c: ("numeric" if c.startswith("num") else "categorical") for c in X.columns}
    spec = load_spec({"sources": {"d": "data.csv"}, "data": {"target": "y"}}, semantic=False).spec
    ours = build_pipeline(spec, types, "classification", {}, DummyClassifier(), seed=0)
    num = [c for c, t in types.items() if t == "numeric"]
    cat = [c for c, t in types.items() if t == "categorical"]

    def hand(pandas: bool):
        ct = ColumnTransformer(
            [
                ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), num),
                (
                    "categorical",
                    Pipeline(
                        [
                            ("impute", SimpleImputer(strategy="most_frequent")),
                            ("encode", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20, sparse_output=False)),
                        ]
                    ),
                    cat,
                ),
            ],
            sparse_threshold=0,
            verbose_feature_names_out=False,
        )
        return ct.set_output(transform="pandas") if pandas else ct

    def run_ours():
        pre = ours[:-1]
        from sklearn.base import clone

        pre = clone(pre)
        pre.fit(X, y)
        return pre.transform(X)

    def run_hand(pandas: bool):
        ct = hand(pandas)
        ct.fit(X, y)
        return ct.transform(X)

    a, b = run_ours(), run_hand(True)
    assert list(a.columns) == list(b.columns), "the two pipelines must compute the same thing"
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy())
    t_ours, t_hand, t_numpy = [], [], []
    for _ in range(runs):  # interleaved
        t_ours.append(_best(run_ours, 1))
        t_hand.append(_best(lambda: run_hand(True), 1))
        t_numpy.append(_best(lambda: run_hand(False), 1))
    return {"ours": min(t_ours), "hand (pandas output)": min(t_hand), "hand (numpy output)": min(t_numpy)}


def bench_profile(rows: int, runs: int) -> dict[str, float]:
    from automl_yaml.report.profile import profile_frame, write_profile
    from automl_yaml.spec.models import ProfileSpec

    frame = mixed_frame(rows, 13, 6, seed=2)
    frame["target"] = np.random.default_rng(3).integers(0, 3, rows)
    types = {c: ("numeric" if c.startswith("num") else "categorical") for c in frame.columns if c != "target"}
    opts = ProfileSpec()

    def baseline():
        frame.describe(include="all")
        frame.corr(numeric_only=True)

    def ours():
        profile_frame(frame, target="target", task="classification", column_types=types, options=opts, seed=0)

    with tempfile.TemporaryDirectory() as tmp:

        def written():
            write_profile(frame, target="target", task="classification", column_types=types, out_dir=Path(tmp), options=opts, seed=0)

        ours()  # warm-up: imports
        written()
        t_base, t_ours, t_written = [], [], []
        for _ in range(runs):
            t_base.append(_best(baseline, 1))
            t_ours.append(_best(ours, 1))
            t_written.append(_best(written, 1))
    return {"describe + corr": min(t_base), "profile_frame": min(t_ours), "write_profile (json+png+html)": min(t_written)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--profile-rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    ok = True

    p = bench_pipeline(args.rows, args.runs)
    ratio = p["ours"] / p["hand (pandas output)"]
    print(f"pipeline fit+transform, {args.rows:,} rows x 30 columns (best of {args.runs}):")
    for k, v in p.items():
        print(f"  {k:<32} {v:8.3f} s")
    print(f"  ratio ours / hand (pandas)       {ratio:8.2f}   (target <= {TARGETS['pipeline']})")
    print(f"  ratio ours / hand (numpy)        {p['ours'] / p['hand (numpy output)']:8.2f}")
    ok &= ratio <= TARGETS["pipeline"]

    q = bench_profile(args.profile_rows, args.runs)
    ratio = q["profile_frame"] / q["describe + corr"]
    print(f"profile, {args.profile_rows:,} rows x 20 columns (best of {args.runs}):")
    for k, v in q.items():
        print(f"  {k:<32} {v:8.3f} s")
    print(f"  ratio profile_frame / baseline   {ratio:8.2f}   (target < {TARGETS['profile']})")
    print(f"  ratio write_profile / baseline   {q['write_profile (json+png+html)'] / q['describe + corr']:8.2f}")
    ok &= ratio < TARGETS["profile"]
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
