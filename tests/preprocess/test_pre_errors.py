"""Bad input gets one clear error naming the step and the column, never a raw library exception."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from automl_yaml.errors import EXIT_USAGE, DataError, SpecError, UsageError
from automl_yaml.preprocess import build_pipeline, columnwise


def build(spec, data, task="classification", estimator=None):
    return build_pipeline(spec, data.types, task, {}, estimator or LogisticRegression(max_iter=1000), seed=0)


def test_a_column_override_for_a_column_that_does_not_exist(pre_spec, pre_mixed):
    with pytest.raises(DataError) as err:
        build(pre_spec({"columns": {"agee": {"scale": "robust"}}}), pre_mixed)
    assert err.value.message == "preprocess.columns.agee: no column 'agee' among the features"
    assert err.value.hint == "did you mean 'age'?"
    assert err.value.exit_code == EXIT_USAGE


def test_an_override_for_a_dropped_column_is_not_an_error(pre_spec, pre_mixed):
    spec = pre_spec({"columns": {"id": {"drop": True}}}, data={"target": "y", "drop": ["id"]})
    assert build(spec, pre_mixed) is not None


@pytest.mark.parametrize(
    "column, override, field",
    [
        ("age", {"encode": "target"}, "encode"),
        ("city", {"scale": "robust"}, "scale"),
        ("city", {"outliers": "iqr"}, "outliers"),
        ("member", {"encode": "onehot"}, "encode"),
        ("signup", {"outliers": "zscore"}, "outliers"),
        ("comment", {"impute": "median"}, "impute"),
    ],
)
def test_a_setting_that_does_not_fit_the_column_type(pre_spec, pre_mixed, column, override, field):
    with pytest.raises(DataError) as err:
        build(pre_spec({"columns": {column: override}}), pre_mixed)
    kind = pre_mixed.types[column]
    assert err.value.message == f"preprocess.columns.{column}.{field}: '{column}' is a {kind} column, which has no {field}"
    assert err.value.hint
    assert err.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize("impute", ["mean", "median", "knn", "iterative"])
def test_a_numeric_imputer_for_categorical_columns(pre_spec, pre_mixed, impute):
    # for the categorical columns as a whole: refused by the spec itself (mlx validate)
    with pytest.raises(SpecError) as err:
        pre_spec({"categorical": {"impute": impute}})
    assert f"preprocess.categorical.impute: '{impute}' needs numbers and cannot fill categorical columns" in err.value.message
    assert err.value.exit_code == EXIT_USAGE
    # for a column only the data shows to be categorical: when the pipeline is built
    with pytest.raises(DataError, match=r"preprocess.columns.plan.impute: 'mean' .* column 'plan'"):
        build(pre_spec({"columns": {"plan": {"impute": "mean"}}}), pre_mixed)


def test_the_spec_itself_refuses_an_encoder_for_a_column_typed_numeric(pre_spec):
    with pytest.raises(SpecError, match="a numeric column has no categories to encode"):
        pre_spec({"columns": {"age": {"type": "numeric", "encode": "onehot"}}})


def test_sequential_selection_asking_for_more_features_than_exist(pre_spec, pre_mixed):
    spec = pre_spec({"categorical": {"encode": "ordinal"}}, select=[{"sequential": {"k_features": 20}}])
    with pytest.raises(DataError) as err:
        build(spec, pre_mixed)
    # 3 numeric + 2 ordinal + 1 boolean + 4 datetime parts = 10 features, known before fitting
    assert err.value.message == "select[0].sequential.k_features: asks for 20 features but at most 10 reach this step"
    assert err.value.exit_code == EXIT_USAGE


def test_a_later_step_asking_for_more_than_an_earlier_step_keeps(pre_spec, pre_mixed):
    spec = pre_spec(select=[{"univariate": {"k": 4}}, {"rfe": {"n_features": 6}}])
    with pytest.raises(DataError, match=r"^select\[1\]\.rfe\.n_features: asks for 6 features but at most 4 reach this step$"):
        build(spec, pre_mixed)


def test_too_many_features_found_only_when_fitting(pre_spec, pre_mixed):
    # one-hot widths are only known after fitting: the error comes from fit, naming the step
    spec = pre_spec(select=[{"rfe": {"n_features": 40}}])
    pipe = build(spec, pre_mixed)
    with pytest.raises(DataError, match=r"^select\[0\]\.rfe: n_features=40 but only 15 features reach this step$"):
        pipe.fit(pre_mixed.X, pre_mixed.y_class)
    spec = pre_spec(select=[{"sequential": {"k_features": 30, "cv": 0}}])
    with pytest.raises(DataError, match=r"^select\[0\]\.sequential: k_features=30 but only 15 features"):
        build(spec, pre_mixed).fit(pre_mixed.X, pre_mixed.y_class)


def test_mutual_information_on_a_huge_categorical(pre_spec):
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"x": rng.normal(size=n), "user": pd.array([f"u{i}" for i in rng.integers(0, 350, n)], dtype="str")})
    y = rng.integers(0, 2, n)
    types = {"x": "numeric", "user": "categorical"}
    spec = pre_spec(
        {"categorical": {"encode": "ordinal", "max_categories": None}}, select=[{"univariate": {"score": "mutual_info", "k": 1}}]
    )
    pipe = build_pipeline(spec, types, "classification", {}, LogisticRegression(), seed=0)
    with pytest.raises(DataError) as err:
        pipe.fit(X, y)
    k = X["user"].nunique()
    assert err.value.message == (
        f"select[0].univariate: mutual information cannot score categorical column 'user': {k} categories for {n} training rows (fewer than 20 rows each)"
    )
    assert "max_categories" in err.value.hint
    # grouped into 20 categories, as by default, it is fine
    spec = pre_spec({"categorical": {"encode": "ordinal"}}, select=[{"univariate": {"score": "mutual_info", "k": 1}}])
    build_pipeline(spec, types, "classification", {}, LogisticRegression(), seed=0).fit(X, y)


def test_one_hot_output_too_large_for_memory(pre_spec, pre_mixed, monkeypatch):
    monkeypatch.setattr(columnwise, "MAX_ONEHOT_CELLS", 1000)
    with pytest.raises(DataError, match=r"one-hot encoding column '(city|plan)' makes \d+ columns"):
        build(pre_spec({"categorical": {"max_categories": None}}), pre_mixed).fit(pre_mixed.X, pre_mixed.y_class)


def test_chi2_on_negative_features(pre_spec, pre_mixed):
    spec = pre_spec(select=[{"univariate": {"score": "chi2", "k": 3}}])
    with pytest.raises(DataError, match=r"^select\[0\]\.univariate: chi2 needs non-negative features, and 'age' has negative values$"):
        build(spec, pre_mixed).fit(pre_mixed.X, pre_mixed.y_class)


def test_selection_after_un_encoded_categories(pre_spec, pre_mixed):
    spec = pre_spec({"categorical": {"encode": "none"}}, select=["variance"])
    with pytest.raises(DataError, match=r"^select\[0\]: the selection steps cannot score un-encoded categorical columns \(city, plan\)$"):
        build(spec, pre_mixed, estimator=HistGradientBoostingClassifier())


def test_missing_values_reaching_a_selector(pre_spec, pre_mixed):
    spec = pre_spec({"numeric": {"impute": "none"}}, select=[{"univariate": {"k": 3}}])
    with pytest.raises(DataError, match=r"^select\[0\]\.univariate: the features contain missing values"):
        build(spec, pre_mixed, estimator=HistGradientBoostingClassifier()).fit(pre_mixed.X, pre_mixed.y_class)


def test_variance_threshold_removing_everything(pre_spec, pre_mixed):
    spec = pre_spec(select=[{"variance": {"threshold": 1e6}}])
    with pytest.raises(DataError, match=r"^select\[0\]\.variance: no feature has a training variance above 1000000.0$"):
        build(spec, pre_mixed).fit(pre_mixed.X, pre_mixed.y_class)


def test_a_selector_estimator_of_the_wrong_task(pre_spec, pre_mixed):
    spec = pre_spec(select=[{"importance": {"estimator": "lasso"}}])
    with pytest.raises(UsageError, match=r"^select\[0\]\.importance\.estimator: 'lasso' is a regressor, but the task is classification$"):
        build(spec, pre_mixed)


def test_a_boolean_column_with_three_values(pre_spec, pre_mixed):
    X = pre_mixed.X.copy()
    X["member"] = X["member"].map({True: "gold", False: "silver"}).fillna("bronze")
    with pytest.raises(DataError) as err:
        build(pre_spec(), pre_mixed).fit(X, pre_mixed.y_class)
    assert err.value.message == "column 'member' is typed boolean but has 3 values in the training rows ('bronze', 'gold', 'silver')"
    assert err.value.hint == "type it as categorical: data.types: {member: categorical}"


def test_dropping_every_training_row(pre_spec, pre_mixed):
    X = pre_mixed.X.copy()
    X.loc[X.index[::2], "age"] = np.nan
    X.loc[X.index[1::2], "income"] = np.nan
    spec = pre_spec({"numeric": {"impute": "drop"}})
    with pytest.raises(DataError, match=r"^preprocess: impute: drop \(age, income, score\) drops all 240 training rows$"):
        build(spec, pre_mixed).fit(X, pre_mixed.y_class)


def test_no_feature_left(pre_spec, pre_mixed):
    cols = {c: {"drop": True} for c in pre_mixed.types if c != "comment"}
    with pytest.raises(DataError, match="no feature column is left to use"):
        build(pre_spec({"columns": cols}), pre_mixed)


def test_an_unknown_searched_name_from_the_options(pre_spec, pre_mixed):
    spec = pre_spec({"numeric": {"scale": {"choice": ["standard", "robust"]}}})
    with pytest.raises(UsageError, match="unknown transform 'scale:robustt'"):
        build_pipeline(spec, pre_mixed.types, "classification", {"preprocess.numeric.scale": "robustt"}, LogisticRegression(), seed=0)


def test_a_text_fill_value_for_a_numeric_column(pre_spec, pre_mixed):
    with pytest.raises(DataError, match=r"^preprocess.columns.age.fill_value: 'unknown' is not a number, and 'age' is a numeric column$"):
        build(pre_spec({"columns": {"age": {"impute": "constant", "fill_value": "unknown"}}}), pre_mixed)


def test_a_numeric_imputer_for_a_numeric_column_is_not_an_error(pre_spec, pre_mixed):
    numeric = {"age": "numeric", "score": "numeric"}
    pipe = build_pipeline(pre_spec({"columns": {"age": {"impute": "mean"}}}), numeric, "classification", {}, LogisticRegression(), seed=0)
    assert pipe.fit(pre_mixed.X[list(numeric)], pre_mixed.y_class).predict(pre_mixed.X[list(numeric)]).shape == (240,)
