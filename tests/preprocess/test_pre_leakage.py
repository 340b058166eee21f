"""Every statistic the pipeline learns comes from the training fold alone.

The data are built so that the training fold and the whole data set have
different statistics (the held-out rows are shifted, re-labelled or
decorrelated); each test checks a fitted attribute against the value computed
by hand on the training rows, and that it differs from the whole-data value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, cross_validate

from automl_yaml.preprocess import build_pipeline, selected_features

N_TRAIN, N_TEST = 120, 120


@pytest.fixture
def shifted():
    """Training rows first, then held-out rows whose every statistic differs."""
    rng = np.random.default_rng(7)
    n = N_TRAIN + N_TEST
    x = np.r_[rng.normal(0, 1, N_TRAIN), rng.normal(100, 5, N_TEST)]
    x[rng.choice(N_TRAIN, 10, replace=False)] = np.nan
    x[N_TRAIN + rng.choice(N_TEST, 10, replace=False)] = np.nan
    z = rng.normal(0, 1, n)
    dup = np.r_[2 * z[:N_TRAIN] + rng.normal(0, 0.01, N_TRAIN), rng.normal(0, 1, N_TEST)]  # correlated with z in training only
    color = np.r_[rng.choice(["red", "blue"], N_TRAIN, p=[0.8, 0.2]), rng.choice(["red", "blue", "green"], N_TEST, p=[0.1, 0.3, 0.6])]
    X = pd.DataFrame({"x": x, "z": z, "dup": dup, "color": pd.array(color, dtype="str")})
    y = np.r_[(z[:N_TRAIN] > 0).astype(int), rng.integers(0, 2, N_TEST)]
    types = {"x": "numeric", "z": "numeric", "dup": "numeric", "color": "categorical"}
    return X, y, types


def _fit_train(pipe, X, y):
    return pipe.fit(X.iloc[:N_TRAIN], y[:N_TRAIN])


def _numeric_part(fitted):
    return fitted.named_steps["preprocess"].named_transformers_["numeric"]


@pytest.mark.parametrize("impute", ["mean", "median"])
def test_imputer_and_scaler_statistics_come_from_the_training_fold(pre_spec, shifted, impute):
    X, y, types = shifted
    pipe = build_pipeline(pre_spec({"numeric": {"impute": impute}}), types, "classification", {}, LogisticRegression(), seed=0)
    fitted = _fit_train(pipe, X, y)
    part = _numeric_part(fitted)
    train_x = X["x"].iloc[:N_TRAIN]
    expected = train_x.mean() if impute == "mean" else train_x.median()
    assert part.named_steps["impute"].statistics_[0] == pytest.approx(expected)
    whole = X["x"].mean() if impute == "mean" else X["x"].median()
    assert abs(expected - whole) > 1  # the whole data would give another value
    filled = train_x.fillna(expected)
    assert part.named_steps["scale"].mean_[0] == pytest.approx(filled.mean())
    assert part.named_steps["scale"].scale_[0] == pytest.approx(filled.std(ddof=0))


def test_outlier_bounds_come_from_the_training_fold(pre_spec, shifted):
    X, y, types = shifted
    pipe = build_pipeline(
        pre_spec({"numeric": {"outliers": "iqr", "scale": "none"}}), types, "classification", {}, LogisticRegression(), seed=0
    )
    clipper = _numeric_part(_fit_train(pipe, X, y)).named_steps["outliers"]
    train_x = X["x"].iloc[:N_TRAIN].dropna()
    q1, q3 = np.percentile(train_x, [25, 75])
    assert clipper.lower_[0] == pytest.approx(q1 - 1.5 * (q3 - q1))
    assert clipper.upper_[0] == pytest.approx(q3 + 1.5 * (q3 - q1))
    assert clipper.upper_[0] < 10  # the held-out rows (around 100) play no part


def test_outlier_row_filter_learns_on_the_training_fold(pre_spec, shifted):
    X, y, types = shifted
    spec = pre_spec({"columns": {"x": {"outliers": {"method": "zscore", "action": "drop"}}}})
    fitted = _fit_train(build_pipeline(spec, types, "classification", {}, LogisticRegression(), seed=0), X, y)
    flt = dict(fitted.filters_)["outliers_drop"]
    train_x = X["x"].iloc[:N_TRAIN].dropna()
    assert flt.upper_[0] == pytest.approx(train_x.mean() + 3 * train_x.std(ddof=0))
    assert len(fitted.predict(X.iloc[N_TRAIN:])) == N_TEST  # every held-out row, all "outliers" by the training bounds


def test_frequency_encoding_comes_from_the_training_fold(pre_spec, shifted):
    X, y, types = shifted
    pipe = build_pipeline(pre_spec({"categorical": {"encode": "frequency"}}), types, "classification", {}, LogisticRegression(), seed=0)
    fitted = _fit_train(pipe, X, y)
    encoder = fitted.named_steps["preprocess"].named_transformers_["categorical"].named_steps["encode"]
    shares = X["color"].iloc[:N_TRAIN].value_counts(normalize=True)
    assert encoder.frequencies_[0] == pytest.approx(shares.to_dict())
    assert "green" not in encoder.frequencies_[0]  # only in the held-out rows
    out = fitted[:-1].transform(X.iloc[N_TRAIN:])
    assert (out.loc[X["color"].iloc[N_TRAIN:] == "green", "color"] == 0).all()


def test_target_encoding_comes_from_the_training_fold(pre_spec, shifted):
    X, _, types = shifted
    rng = np.random.default_rng(3)
    y = np.r_[np.where(X["color"].iloc[:N_TRAIN] == "red", 10.0, -10.0) + rng.normal(0, 0.1, N_TRAIN), rng.normal(500, 1, N_TEST)]
    pipe = build_pipeline(pre_spec({"categorical": {"encode": "target"}}), types, "regression", {}, Ridge(), seed=0)
    fitted = _fit_train(pipe, X, y)
    encoder = fitted.named_steps["preprocess"].named_transformers_["categorical"].named_steps["encode"]
    assert encoder.target_mean_ == pytest.approx(y[:N_TRAIN].mean())
    assert list(encoder.categories_[0]) == ["blue", "red"]
    encodings = dict(zip(encoder.categories_[0], encoder.encodings_[0], strict=True))
    assert encodings["red"] == pytest.approx(10.0, abs=0.5) and encodings["blue"] == pytest.approx(-10.0, abs=1.0)


def test_correlation_filter_learns_on_the_training_fold(pre_spec, shifted):
    X, y, types = shifted
    spec = pre_spec(select=[{"correlation": {"threshold": 0.9}}])
    pipe = build_pipeline(spec, types, "classification", {}, LogisticRegression(), seed=0)
    fitted = _fit_train(pipe, X, y)
    dropped = fitted.named_steps["select0"].dropped_
    assert dropped["dup"][0] == "z" and dropped["dup"][1] > 0.99
    # in the training rows there are two colours, so their one-hot columns are exact opposites
    assert dropped["color_red"] == ("color_blue", pytest.approx(1.0))
    assert "dup" not in selected_features(fitted)
    assert abs(np.corrcoef(X["z"], X["dup"])[0, 1]) < 0.9  # on all rows, it would have been kept
    whole = build_pipeline(spec, types, "classification", {}, LogisticRegression(), seed=0).fit(X, y)
    assert "dup" in selected_features(whole)


def test_univariate_scores_come_from_the_training_fold(pre_spec, shifted):
    from sklearn.feature_selection import f_classif

    X, y, types = shifted
    spec = pre_spec(select=[{"univariate": {"k": 2}}])
    fitted = _fit_train(build_pipeline(spec, types, "classification", {}, LogisticRegression(), seed=0), X, y)
    Xt = fitted.named_steps["preprocess"].transform(X.iloc[:N_TRAIN])
    expected, _ = f_classif(Xt, y[:N_TRAIN])
    np.testing.assert_allclose(fitted.named_steps["select0"].scores_, expected)


def test_each_cross_validation_fold_learns_from_its_own_training_rows(pre_spec, shifted):
    X, y, types = shifted
    spec = pre_spec({"numeric": {"outliers": "iqr"}, "categorical": {"encode": "frequency"}}, select=[{"correlation": {"threshold": 0.9}}])
    pipe = build_pipeline(spec, types, "classification", {}, LogisticRegression(), seed=0)
    cv = KFold(3, shuffle=True, random_state=0)
    res = cross_validate(pipe, X, y, cv=cv, return_estimator=True, return_indices=True, error_score="raise")
    medians = set()
    for est, train in zip(res["estimator"], res["indices"]["train"], strict=True):
        fold = X.iloc[train]
        part = _numeric_part(est)
        clipper = part.named_steps["outliers"]
        q1, q3 = np.nanpercentile(fold[["x", "z", "dup"]].to_numpy(dtype=float), [25, 75], axis=0)
        np.testing.assert_allclose(clipper.upper_, q3 + 1.5 * (q3 - q1))
        clipped = np.clip(fold["x"].to_numpy(dtype=float), clipper.lower_[0], clipper.upper_[0])
        assert part.named_steps["impute"].statistics_[0] == pytest.approx(np.nanmedian(clipped))
        medians.add(round(float(part.named_steps["impute"].statistics_[0]), 9))
        encoder = est.named_steps["preprocess"].named_transformers_["categorical"].named_steps["encode"]
        assert encoder.frequencies_[0] == pytest.approx(fold["color"].value_counts(normalize=True).to_dict())
    assert len(medians) == 3  # three folds, three different statistics
