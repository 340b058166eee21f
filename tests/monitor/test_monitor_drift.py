"""Drift against a reference profile: each kind of change is found and named, and none on the same distribution."""

import json

import numpy as np
import pandas as pd
import pytest

from automl_yaml.monitor import Thresholds, build_reference, compare
from automl_yaml.monitor.drift import psi


def _table(n: int, seed: int, *, shift: float = 0.0, missing: float = 0.1, colours=("red", "green", "blue")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0 + shift, 2.0, n)
    x[rng.random(n) < missing] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "count": rng.poisson(3, n),
            "colour": pd.Series(rng.choice(list(colours), n, p=None), dtype="string"),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def reference():
    ref = build_reference(_table(5000, 0), task="regression", predictions=np.arange(5000) % 7, scores={"r2": 0.8}, target="y")
    return json.loads(json.dumps(ref))  # what is saved beside the model: JSON only


def test_the_same_distribution_is_not_drift(reference):
    report = compare(reference, _table(5000, 1), predictions=(np.arange(5000) + 3) % 7, scores={"r2": 0.79})
    assert report["drift"] is False, report["reasons"]
    assert all(f["psi"] < 0.1 for f in report["features"].values())
    assert report["features"]["x"]["ks_pvalue"] > 0.001


def test_a_reference_compared_with_its_own_rows_has_zero_drift():
    table = _table(3000, 5)
    report = compare(build_reference(table, task="regression"), table)
    assert all(f["psi"] == pytest.approx(0.0, abs=1e-12) for f in report["features"].values())
    assert report["features"]["x"]["ks"] == 0.0 and report["features"]["colour"]["js"] == pytest.approx(0.0, abs=1e-7)


def test_a_shifted_mean_is_drift_and_named(reference):
    report = compare(reference, _table(5000, 2, shift=2.0))
    x = report["features"]["x"]
    assert report["drift"] and x["drift"] and x["psi"] >= 0.25 and x["ks"] > 0.3
    assert any(r.startswith("x: PSI") for r in report["reasons"])
    assert not report["features"]["count"]["drift"] and not report["features"]["colour"]["drift"]


def test_a_new_category_is_drift_and_named(reference):
    current = _table(5000, 3, colours=("red", "green", "blue", "purple"))
    report = compare(reference, current)
    colour = report["features"]["colour"]
    assert colour["drift"] and colour["new_categories"] == ["purple"]
    assert any("new categories: 'purple'" in r for r in report["reasons"])


def test_a_removed_column_is_drift_and_named(reference):
    report = compare(reference, _table(5000, 4).drop(columns=["count"]))
    assert report["drift"] and report["schema"]["missing_columns"] == ["count"]
    assert report["reasons"][0] == "columns missing: count"


def test_a_doubled_missing_share_is_drift(reference):
    report = compare(reference, _table(5000, 6, missing=0.2))
    x = report["features"]["x"]
    assert x["drift"] and x["missing_delta"] == pytest.approx(0.1, abs=0.02)
    assert any("missing share 10" in r and "-> 2" in r for r in report["reasons"])


def test_a_performance_drop_is_drift(reference):
    report = compare(reference, _table(5000, 7), scores={"r2": 0.4})
    assert report["drift"] and report["performance"]["r2"]["drift"]
    ok = compare(reference, _table(5000, 7), scores={"r2": 0.78})
    assert not ok["drift"]


def test_lower_is_better_scores_drop_upwards():
    ref = build_reference(_table(500, 0), task="regression", scores={"rmse": 1.0})
    worse = compare(ref, _table(500, 1), scores={"rmse": 1.5}, greater_is_better={"rmse": False})
    better = compare(ref, _table(500, 1), scores={"rmse": 0.5}, greater_is_better={"rmse": False})
    assert worse["performance"]["rmse"]["drift"] and not better["performance"]["rmse"]["drift"]


def test_a_label_flip_drops_a_classifiers_accuracy():
    """A model that learnt y = x > 0 meets data whose labels were flipped: its accuracy falls, drift is reported."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=2000)})
    y = (X["x"] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    ref = build_reference(X, task="classification", predictions=model.predict(X), scores={"accuracy": accuracy_score(y, model.predict(X))})
    X_now = pd.DataFrame({"x": rng.normal(size=2000)})
    y_flipped = (X_now["x"] <= 0).astype(int)
    report = compare(ref, X_now, predictions=model.predict(X_now), scores={"accuracy": accuracy_score(y_flipped, model.predict(X_now))})
    assert report["drift"] and report["performance"]["accuracy"]["drift"]
    assert not report["features"]["x"]["drift"] and not report["prediction"]["drift"]


def test_prediction_drift_is_found():
    X = _table(2000, 0)
    ref = build_reference(X, task="classification", predictions=np.where(np.arange(2000) % 2, "a", "b"))
    report = compare(ref, _table(2000, 1), predictions=np.array(["a"] * 2000))
    assert report["prediction"]["drift"] and any(r.startswith("predictions:") for r in report["reasons"])


def test_a_number_column_read_as_text_is_a_type_change(reference):
    current = _table(5000, 8)
    current["count"] = current["count"].astype(str).where(np.arange(5000) % 10 != 0, "n/a")
    report = compare(reference, current)
    assert report["features"]["count"]["drift"]
    assert any("type changed" in r for r in report["features"]["count"]["reasons"])


def test_thresholds_decide():
    ref = build_reference(_table(5000, 0), task="regression")
    mild = _table(5000, 2, shift=0.6)
    value = compare(ref, mild)["features"]["x"]["psi"]
    assert 0.02 < value
    assert compare(ref, mild, thresholds=Thresholds(psi_drift=value / 2))["features"]["x"]["drift"]
    assert not compare(ref, mild, thresholds=Thresholds(psi_drift=value * 2))["features"]["x"]["drift"]


def test_psi_matches_its_formula():
    e, a = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    assert psi(e, a) == pytest.approx((0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5))


def test_a_profile_of_another_version_is_refused_clearly(reference):
    from automl_yaml.errors import UsageError

    with pytest.raises(UsageError, match="reference profile has version 99"):
        compare({**reference, "version": 99}, _table(10, 0))


@pytest.mark.parametrize("kind", ["normal", "integers", "heavy", "constant-ish"])
def test_the_fast_interval_index_is_searchsorted_exactly(kind):
    """The grid lookup gives the very index np.searchsorted gives, on values that sit on the points too."""
    from automl_yaml.monitor.reference import N_QUANTILES, _interval_index

    rng = np.random.default_rng(1)
    values = {
        "normal": rng.normal(0, 1, 50_000),
        "integers": rng.integers(0, 40, 50_000).astype(float),
        "heavy": rng.lognormal(0, 3, 50_000),
        "constant-ish": np.where(rng.random(50_000) < 0.95, 1.0, rng.normal(1, 1e-9, 50_000)),
    }[kind]
    points = np.unique(np.quantile(values, np.linspace(0, 1, N_QUANTILES)))
    probe = np.concatenate([values, points, np.nextafter(points, -np.inf), np.nextafter(points, np.inf), [-1e300, 1e300]])
    np.testing.assert_array_equal(_interval_index(points, probe), np.searchsorted(points, probe, side="left"))
