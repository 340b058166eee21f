"""Every preprocessing option runs on mixed data and yields the columns it should."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from automl_yaml.preprocess import build_pipeline, selected_features, unwrap
from automl_yaml.preprocess.rows import DropTrainingRows

# Unscaled variants leave the logistic regression short of convergence: irrelevant here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NUMERIC = ["age", "income", "score"]
DATE_PARTS = ["signup_year", "signup_month", "signup_day", "signup_dayofweek"]


def onehot(X: pd.DataFrame, col: str, *, fill: str | None = None) -> list[str]:
    """The one-hot names of ``col``: its training categories (missing filled by the mode, or by ``fill``)."""
    values = X[col].fillna(fill) if fill is not None else X[col].dropna()
    return [f"{col}_{v}" for v in sorted(values.unique())]


def fit(spec, data, task="classification", estimator=None, options=None):
    # The model is not under test here: a dummy one keeps unscaled variants fast.
    est = estimator if estimator is not None else (DummyClassifier() if task == "classification" else DummyRegressor())
    y = data.y_class if task == "classification" else data.y_reg
    pipe = build_pipeline(spec, data.types, task, options or {}, est, seed=0)
    return pipe.fit(data.X, y)


def features(fitted, X) -> pd.DataFrame:
    return unwrap(fitted)[:-1].transform(X)


def default_columns(X) -> list[str]:
    return NUMERIC + onehot(X, "city") + onehot(X, "plan") + ["member"] + DATE_PARTS


def test_default_spec_columns_and_no_missing(pre_spec, pre_mixed):
    fitted = fit(pre_spec(), pre_mixed)
    assert isinstance(fitted, Pipeline)
    assert [name for name, _ in fitted.steps] == ["preprocess", "model"]
    out = features(fitted, pre_mixed.X)
    assert sorted(out.columns) == sorted(default_columns(pre_mixed.X))
    assert len(out.columns) == 3 + 4 + 3 + 1 + 4  # text is dropped by default
    assert not out.isna().any().any()
    assert selected_features(fitted) == list(out.columns)
    # standard scaling of the numeric columns, learnt on these rows
    assert np.allclose(out[NUMERIC].mean(), 0, atol=1e-9)
    # booleans are 0/1
    assert set(out["member"].unique()) <= {0.0, 1.0}


def test_unseen_categories_and_missing_values_at_predict_time(pre_spec, pre_mixed):
    fitted = fit(pre_spec(), pre_mixed)
    out = features(fitted, pre_mixed.X_unseen)
    assert not out.isna().any().any()
    city = [c for c in out.columns if c.startswith("city_")]
    assert (out.loc[out.index[:6], city] == 0).all().all()  # 'atlantis' was never seen
    assert (out.loc[out.index[6:], "city_paris"] == 1).all()
    assert len(fitted.predict(pre_mixed.X_unseen)) == len(pre_mixed.X_unseen)


@pytest.mark.parametrize("impute", ["mean", "median", "most_frequent", "constant", "knn", "iterative"])
def test_numeric_imputers(pre_spec, pre_mixed, impute):
    fitted = fit(pre_spec({"numeric": {"impute": impute, "fill_value": -1.5}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    assert sorted(out.columns) == sorted(default_columns(pre_mixed.X))
    assert not out.isna().any().any()
    imputer = fitted.named_steps["preprocess"].named_transformers_["numeric"].named_steps["impute"]
    if impute == "constant":
        raw = pd.DataFrame(imputer.transform(pre_mixed.X[NUMERIC]), columns=NUMERIC)
        assert (raw.loc[pre_mixed.X["age"].isna().to_numpy(), "age"] == -1.5).all()


def test_missing_indicator_adds_one_column_per_column_with_missing_values(pre_spec, pre_mixed):
    fitted = fit(pre_spec({"numeric": {"missing_indicator": True}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    with_missing = [c for c in NUMERIC if pre_mixed.X[c].isna().any()]
    assert with_missing == ["age", "income"]
    assert sorted(out.columns) == sorted(default_columns(pre_mixed.X) + [f"missingindicator_{c}" for c in with_missing])
    # the indicator marks exactly the missing rows (before scaling, it is 0/1)
    imputer = fitted.named_steps["preprocess"].named_transformers_["numeric"].named_steps["impute"]
    marks = imputer.transform(pre_mixed.X[NUMERIC])["missingindicator_age"].to_numpy()
    assert np.array_equal(marks.astype(bool), pre_mixed.X["age"].isna().to_numpy())


def test_impute_none_leaves_missing_values_for_models_that_take_them(pre_spec, pre_mixed):
    spec = pre_spec({"numeric": {"impute": "none", "missing_indicator": True}})
    fitted = fit(spec, pre_mixed, estimator=HistGradientBoostingClassifier(max_iter=10))
    out = features(fitted, pre_mixed.X)
    assert out["age"].isna().sum() == pre_mixed.X["age"].isna().sum()
    assert "missingindicator_age" in out.columns


@pytest.mark.parametrize("scale", ["standard", "minmax", "robust", "maxabs", "power", "quantile", "none"])
def test_scalers(pre_spec, pre_mixed, scale):
    fitted = fit(pre_spec({"numeric": {"scale": scale}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    assert sorted(out.columns) == sorted(default_columns(pre_mixed.X))
    assert not out.isna().any().any()
    score = out["score"]
    if scale == "minmax":
        assert score.min() == pytest.approx(0) and score.max() == pytest.approx(1)
    elif scale == "maxabs":
        assert score.abs().max() == pytest.approx(1)
    elif scale == "none":
        assert np.allclose(score, pre_mixed.X["score"])
    elif scale in ("standard", "power", "quantile"):
        assert abs(score.mean()) < 0.2


def test_quantile_scaling_caps_quantiles_by_the_fold_size(pre_spec, pre_mixed):
    fitted = fit(pre_spec({"numeric": {"scale": "quantile"}}), pre_mixed)
    scaler = fitted.named_steps["preprocess"].named_transformers_["numeric"].named_steps["scale"]
    assert scaler.n_quantiles_ == len(pre_mixed.X)  # 240 rows < the default 1000


@pytest.mark.parametrize("method, factor", [("iqr", None), ("iqr", 3.0), ("zscore", None), ("zscore", 2.0)])
def test_outlier_clipping(pre_spec, pre_mixed, method, factor):
    outliers = {"method": method} | ({"factor": factor} if factor else {})
    fitted = fit(pre_spec({"numeric": {"outliers": outliers, "scale": "none"}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    age = pre_mixed.X["age"].dropna().to_numpy()
    if method == "iqr":
        q1, q3 = np.percentile(age, [25, 75])
        f = factor or 1.5
        lo, hi = q1 - f * (q3 - q1), q3 + f * (q3 - q1)
    else:
        f = factor or 3.0
        lo, hi = age.mean() - f * age.std(), age.mean() + f * age.std()
    assert out["age"].max() == pytest.approx(hi)
    assert out["age"].min() == pytest.approx(lo)
    assert len(out) == len(pre_mixed.X)


@pytest.mark.parametrize(
    "encode, task, expected",
    [
        ("onehot", "classification", None),
        ("ordinal", "classification", ["city", "plan"]),
        ("frequency", "classification", ["city", "plan"]),
        ("target", "classification", ["city", "plan"]),
        ("target", "regression", ["city", "plan"]),
    ],
)
def test_encoders(pre_spec, pre_mixed, encode, task, expected):
    fitted = fit(pre_spec({"categorical": {"encode": encode}}), pre_mixed, task=task)
    out = features(fitted, pre_mixed.X)
    cats = expected if expected is not None else onehot(pre_mixed.X, "city") + onehot(pre_mixed.X, "plan")
    assert sorted(out.columns) == sorted(NUMERIC + cats + ["member"] + DATE_PARTS)
    assert not out.isna().any().any()
    unseen = features(fitted, pre_mixed.X_unseen)
    assert not unseen.isna().any().any()
    if encode == "ordinal":
        assert (unseen["plan"] == -1).all()
    if encode == "frequency":
        assert (unseen["plan"] == 0).all()


def test_target_encoding_of_a_multiclass_target_gives_one_column_per_class(pre_spec, pre_mixed):
    y3 = np.asarray(pd.qcut(pre_mixed.X["score"], 3, labels=False))
    pipe = build_pipeline(
        pre_spec({"categorical": {"encode": "target"}}), pre_mixed.types, "classification", {}, LogisticRegression(max_iter=2000), seed=0
    )
    out = unwrap(pipe.fit(pre_mixed.X, y3))[:-1].transform(pre_mixed.X)
    assert {"city_0", "city_1", "city_2", "plan_0", "plan_1", "plan_2"} <= set(out.columns)


def test_encode_none_keeps_categories_for_native_support(pre_spec, pre_mixed):
    spec = pre_spec({"categorical": {"encode": "none"}})
    fitted = fit(spec, pre_mixed, estimator=HistGradientBoostingClassifier(max_iter=10))
    out = features(fitted, pre_mixed.X_unseen)
    assert isinstance(out["city"].dtype, pd.CategoricalDtype)
    assert set(out["city"].cat.categories) == set(pre_mixed.X["city"].dropna())
    assert out["city"].iloc[:6].isna().all()  # unseen -> missing, which the model routes
    assert len(fitted.predict(pre_mixed.X_unseen)) == len(pre_mixed.X_unseen)


def test_rare_categories_are_grouped(pre_spec, pre_mixed):
    counts = pre_mixed.X["city"].fillna(pre_mixed.X["city"].mode()[0]).value_counts()
    fitted = fit(pre_spec({"categorical": {"max_categories": 2}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    assert [c for c in out.columns if c.startswith("city_")] == [f"city_{counts.index[0]}", "city_infrequent_sklearn"]
    threshold = int(counts.iloc[-1]) + 1  # only the rarest city is below it
    fitted = fit(pre_spec({"categorical": {"min_frequency": threshold, "max_categories": None}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    assert f"city_{counts.index[-1]}" not in out.columns and "city_infrequent_sklearn" in out.columns
    assert out["city_infrequent_sklearn"].sum() == counts.iloc[-1]


def test_categorical_constant_fill_is_a_category(pre_spec, pre_mixed):
    fitted = fit(pre_spec({"categorical": {"impute": "constant", "fill_value": "unknown"}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    assert out["city_unknown"].sum() == pre_mixed.X["city"].isna().sum()


def test_datetime_parts(pre_spec, pre_mixed):
    parts = ["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "quarter", "is_weekend", "timestamp"]
    fitted = fit(pre_spec({"datetime": {"parts": parts}, "numeric": {"scale": "none"}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    assert [c for c in out.columns if c.startswith("signup_")] == [f"signup_{p}" for p in parts]
    assert not out.isna().any().any()
    when = pre_mixed.X["signup"]
    ok = when.notna().to_numpy()
    assert np.array_equal(out.loc[ok, "signup_hour"], when[ok].dt.hour)
    assert np.array_equal(out.loc[ok, "signup_is_weekend"], (when[ok].dt.day_of_week >= 5).astype(float))
    assert np.allclose(out.loc[ok, "signup_timestamp"], (when[ok] - pd.Timestamp("1970-01-01")).dt.total_seconds())


def test_datetime_strings_are_parsed(pre_spec, pre_mixed):
    X = pre_mixed.X.copy()
    X["signup"] = X["signup"].dt.strftime("%Y-%m-%d %H:%M")
    pipe = build_pipeline(pre_spec({"numeric": {"scale": "none"}}), pre_mixed.types, "classification", {}, DummyClassifier(), seed=0)
    out = pipe.fit(X, pre_mixed.y_class)[:-1].transform(X)
    ok = pre_mixed.X["signup"].notna().to_numpy()
    assert np.array_equal(out.loc[ok, "signup_month"], pre_mixed.X.loc[ok, "signup"].dt.month)


@pytest.mark.parametrize("encode", ["frequency", "tfidf"])
def test_text_columns(pre_spec, pre_mixed, encode):
    fitted = fit(pre_spec({"text": {"encode": encode, "max_features": 4}}), pre_mixed)
    out = features(fitted, pre_mixed.X)
    text_cols = [c for c in out.columns if c.startswith("comment")]
    if encode == "frequency":
        assert text_cols == ["comment"]
        shares = pre_mixed.X["comment"].value_counts() / len(pre_mixed.X)
        first = pre_mixed.X["comment"].dropna().iloc[0]
        assert out.loc[pre_mixed.X["comment"] == first, "comment"].iloc[0] == pytest.approx(shares[first])
    else:
        assert len(text_cols) == 4 and all(c.startswith("comment_") for c in text_cols)
        assert "comment_great" in text_cols  # the most frequent word
    assert not out.isna().any().any()


def test_column_overrides(pre_spec, pre_mixed):
    spec = pre_spec(
        {
            "columns": {
                "income": {"scale": "minmax", "impute": "constant", "fill_value": 0},
                "plan": {"encode": "ordinal"},
                "score": {"drop": True},
                "member": {"type": "categorical"},
            }
        }
    )
    fitted = fit(spec, pre_mixed)
    ct = fitted.named_steps["preprocess"]
    names = [name for name, _, _ in ct.transformers]
    assert "numeric:income" in names and "categorical:plan" in names
    out = features(fitted, pre_mixed.X)
    assert "score" not in out.columns
    assert out["income"].min() == pytest.approx(0) and out["income"].max() == pytest.approx(1)
    assert "plan" in out.columns and set(out["plan"].unique()) <= {0.0, 1.0, 2.0}
    assert {"member_False", "member_True"} <= set(out.columns)


def test_boolean_columns_of_words(pre_spec, pre_mixed):
    X = pre_mixed.X.copy()
    X["member"] = X["member"].map({True: "yes", False: "no"})
    pipe = build_pipeline(pre_spec(), pre_mixed.types, "classification", {}, DummyClassifier(), seed=0)
    out = pipe.fit(X, pre_mixed.y_class)[:-1].transform(X)
    ok = X["member"].notna().to_numpy()
    assert np.array_equal(out.loc[ok, "member"], (X.loc[ok, "member"] == "yes").astype(float))


# --------------------------------------------------------------------- row dropping


def test_impute_drop_drops_training_rows_only(pre_spec, pre_mixed):
    spec = pre_spec({"columns": {"age": {"impute": "drop"}}})
    pipe = build_pipeline(spec, pre_mixed.types, "classification", {}, LogisticRegression(max_iter=2000), seed=0)
    assert isinstance(pipe, DropTrainingRows)
    X, y = pre_mixed.X, pre_mixed.y_class
    train, test = np.arange(0, 180), np.arange(180, 240)
    pipe.fit(X.iloc[train], y[train])
    n_missing = int(X["age"].iloc[train].isna().sum())
    assert n_missing > 0
    assert pipe.n_rows_dropped_ == {"impute_drop": n_missing}
    # the inner pipeline saw only complete rows: its median is that of the kept rows
    imputer = pipe.estimator_.named_steps["preprocess"].named_transformers_["numeric:age"].named_steps["impute"]
    assert imputer.statistics_[0] == pytest.approx(X["age"].iloc[train].median())
    # predict uses every row, missing ones included
    X_test = X.iloc[test]
    assert X_test["age"].isna().any()
    assert len(pipe.predict(X_test)) == len(test)
    assert pipe.predict_proba(X_test).shape == (len(test), 2)
    assert list(pipe.classes_) == [0, 1]


@pytest.mark.parametrize(
    "outliers",
    [
        {"method": "iqr", "action": "drop"},
        {"method": "zscore", "factor": 2.5, "action": "drop"},
        {"method": "isolation_forest", "action": "drop", "contamination": 0.05},
    ],
)
def test_outlier_drop_drops_training_rows_only(pre_spec, pre_mixed, outliers):
    spec = pre_spec({"numeric": {"outliers": outliers}})
    pipe = build_pipeline(spec, pre_mixed.types, "regression", {}, Ridge(), seed=0)
    X, y = pre_mixed.X, pre_mixed.y_reg
    pipe.fit(X, y)
    dropped = pipe.n_rows_dropped_["outliers_drop"]
    values = X[NUMERIC].to_numpy(dtype=float)
    if outliers["method"] == "iqr":
        q1, q3 = np.nanpercentile(values, [25, 75], axis=0)
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        expected = int(((values < lo) | (values > hi)).any(axis=1).sum())
        assert dropped == expected
    elif outliers["method"] == "zscore":
        mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
        expected = int(((values < mean - 2.5 * std) | (values > mean + 2.5 * std)).any(axis=1).sum())
        assert dropped == expected
    else:
        assert dropped == pytest.approx(0.05 * len(X), abs=3)
    assert dropped >= 4  # the planted age outliers at least
    assert len(pipe.predict(X)) == len(X)  # nothing dropped at predict time


def test_row_dropping_wrapper_clones_pickles_and_cross_validates(pre_spec, pre_mixed):
    spec = pre_spec({"columns": {"age": {"impute": "drop"}}, "numeric": {"outliers": {"method": "iqr", "action": "drop"}}})
    pipe = build_pipeline(spec, pre_mixed.types, "classification", {}, LogisticRegression(max_iter=2000), seed=0)
    twin = clone(pipe)
    assert twin is not pipe and twin.get_params()["filters"][0][1] is not pipe.get_params()["filters"][0][1]
    fitted = twin.fit(pre_mixed.X, pre_mixed.y_class)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(pre_mixed.X_unseen), fitted.predict_proba(pre_mixed.X_unseen))
    res = cross_validate(pipe, pre_mixed.X, pre_mixed.y_class, cv=StratifiedKFold(3), scoring=["roc_auc", "accuracy"], error_score="raise")
    assert np.all((res["test_roc_auc"] > 0.5) & (res["test_roc_auc"] <= 1))


def test_pipeline_clones_pickles_and_cross_validates(pre_spec, pre_mixed):
    spec = pre_spec(
        {
            "categorical": {"encode": "target"},
            "numeric": {"outliers": "iqr", "scale": "quantile"},
            "text": {"encode": "tfidf", "max_features": 3},
        },
        select=[{"correlation": {"threshold": 0.9}}, "variance", {"univariate": {"k": 6}}],
    )
    pipe = build_pipeline(spec, pre_mixed.types, "regression", {}, Ridge(), seed=0)
    fitted = clone(pipe).fit(pre_mixed.X, pre_mixed.y_reg)
    assert len(selected_features(fitted)) == 6
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.predict(pre_mixed.X_unseen), fitted.predict(pre_mixed.X_unseen))
    res = cross_validate(pipe, pre_mixed.X, pre_mixed.y_reg, cv=KFold(3, shuffle=True, random_state=0), scoring="r2", error_score="raise")
    assert np.all(res["test_score"] > 0.5)  # y is mostly 2 * age


def test_database_style_missing_values_and_nullable_dtypes(pre_spec):
    """None in object columns, pd.NA in nullable dtypes, pandas categories: all count as missing."""
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame(
        {
            "count": pd.array(rng.integers(0, 10, n), dtype="Int64"),
            "ratio": pd.array(rng.normal(size=n), dtype="Float64"),
            "grade": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "kind": pd.Series(rng.choice(["x", "y"], n), dtype=object),
            "active": pd.array(rng.choice([True, False], n), dtype="boolean"),
        }
    )
    X.loc[::5, "count"] = pd.NA
    X.loc[::6, "ratio"] = pd.NA
    X.loc[::7, "grade"] = np.nan
    X.loc[::4, "kind"] = None
    X.loc[::3, "active"] = pd.NA
    types = {"count": "numeric", "ratio": "numeric", "grade": "categorical", "kind": "categorical", "active": "boolean"}
    y = rng.integers(0, 2, n)
    for encode in ("onehot", "frequency", "target", "ordinal"):
        pipe = build_pipeline(pre_spec({"categorical": {"encode": encode}}), types, "classification", {}, DummyClassifier(), seed=0)
        out = pipe.fit(X, y)[:-1].transform(X)
        assert not out.isna().any().any()
        if encode == "onehot":
            assert sorted(out.columns) == ["active", "count", "grade_a", "grade_b", "grade_c", "kind_x", "kind_y", "ratio"]
        if encode == "frequency":
            mode = X["kind"].mode()[0]
            assert out["kind"].iloc[0] == pytest.approx((X["kind"].fillna(mode) == mode).mean())  # None was imputed first
