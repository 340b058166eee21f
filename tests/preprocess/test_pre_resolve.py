"""Searched spec fields: resolve_option, and every search dimension reaching the pipeline."""

from __future__ import annotations

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from automl_yaml.preprocess import build_pipeline, resolve_option
from automl_yaml.preprocess.columnwise import OutlierClipper
from automl_yaml.preprocess.rows import DropTrainingRows
from automl_yaml.search.space import compile_space
from automl_yaml.spec.space import Choice, FloatRange, IntRange


def test_resolve_option_plain_and_searched_values():
    path = ("select", 1, "univariate", "k")
    assert resolve_option(7, path, {"select[1].univariate.k": 3}) == 7  # a fixed value is never searched
    k = IntRange.model_validate({"int": [2, 9]})
    assert resolve_option(k, path, {"select[1].univariate.k": 5}) == 5
    assert resolve_option(k, path, {}) == 2  # default: the low end
    f = FloatRange.model_validate({"float": [0.5, 0.9]})
    assert resolve_option(f, ("select", 0, "correlation", "threshold"), {}) == 0.5
    c = Choice.model_validate({"choice": ["robust", "standard"]})
    assert resolve_option(c, ("preprocess", "numeric", "scale"), {}) == "robust"  # default: the first choice
    assert resolve_option(c, ("preprocess", "numeric", "scale"), {"preprocess.numeric.scale": "standard"}) == "standard"


SEARCHED = {
    "preprocess": {
        "numeric": {
            "scale": {"choice": ["standard", "robust", "minmax"]},
            "impute": {"choice": ["median", "mean"]},
            "outliers": {"choice": [None, {"method": "iqr", "factor": {"float": [1.0, 3.0]}}]},
        },
        "categorical": {"encode": {"choice": ["onehot", "ordinal"]}},
        "columns": {"age": {"impute": {"choice": ["mean", "drop"]}}, "income": {"scale": {"choice": ["minmax", "robust"]}}},
    },
    "select": [{"correlation": {"threshold": {"float": [0.8, 0.99]}}}, {"univariate": {"k": {"int": [3, 8]}}}],
}


def test_every_search_dimension_reaches_the_pipeline(pre_spec, pre_mixed):
    spec = pre_spec(SEARCHED["preprocess"], select=SEARCHED["select"])
    space = compile_space(spec, "classification", len(pre_mixed.X))
    names = {d.name for d in space.shared}
    assert names == {
        "preprocess.numeric.scale",
        "preprocess.numeric.impute",
        "preprocess.numeric.outliers",
        "preprocess.categorical.encode",
        "preprocess.columns.age.impute",
        "preprocess.columns.income.scale",
        "select[0].correlation.threshold",
        "select[1].univariate.k",
    }
    outliers_dim = next(d for d in space.shared if d.name == "preprocess.numeric.outliers")
    config = {
        "preprocess.numeric.scale": "robust",
        "preprocess.numeric.impute": "mean",
        "preprocess.numeric.outliers": outliers_dim.choices[1],
        "preprocess.categorical.encode": "ordinal",
        "preprocess.columns.age.impute": "drop",
        "preprocess.columns.income.scale": "minmax",
        "select[0].correlation.threshold": 0.85,
        "select[1].univariate.k": 4,
    }
    _, _, options = space.split(config)
    assert options == config
    pipe = build_pipeline(spec, pre_mixed.types, "classification", options, LogisticRegression(max_iter=1000), seed=0)
    assert isinstance(pipe, DropTrainingRows)  # columns.age.impute = drop
    inner = pipe.estimator
    parts = {name: (t, cols) for name, t, cols in inner.named_steps["preprocess"].transformers}
    numeric, _ = parts["numeric"]
    assert parts["numeric"][1] == ["score"]
    assert isinstance(numeric.named_steps["scale"], RobustScaler) and numeric.named_steps["impute"].strategy == "mean"
    clipper = numeric.named_steps["outliers"]
    assert isinstance(clipper, OutlierClipper) and clipper.factor == 1.0  # the range's low end
    assert isinstance(parts["numeric:income"][0].named_steps["scale"], MinMaxScaler)
    assert parts["numeric:age"][0].named_steps["impute"].strategy == "median"  # the predict-time fallback of drop
    assert parts["categorical"][0].named_steps["encode"].__class__.__name__ == "OrdinalEncoder"
    assert inner.named_steps["select0"].threshold == 0.85 and inner.named_steps["select1"].k == 4
    fitted = pipe.fit(pre_mixed.X, pre_mixed.y_class)
    assert len(fitted.predict(pre_mixed.X_unseen)) == len(pre_mixed.X_unseen)


def test_outliers_searched_as_a_factor_inside_a_fixed_method(pre_spec, pre_mixed):
    spec = pre_spec({"numeric": {"outliers": {"method": "zscore", "factor": {"float": [2.0, 4.0]}}}})
    space = compile_space(spec, "classification", 100)
    assert [d.name for d in space.shared] == ["preprocess.numeric.outliers.factor"]
    pipe = build_pipeline(
        spec, pre_mixed.types, "classification", {"preprocess.numeric.outliers.factor": 2.5}, LogisticRegression(), seed=0
    )
    clipper = pipe.named_steps["preprocess"].transformers[0][1].named_steps["outliers"]
    assert (clipper.method, clipper.factor) == ("zscore", 2.5)


def test_defaults_without_options(pre_spec, pre_mixed):
    spec = pre_spec(SEARCHED["preprocess"], select=SEARCHED["select"])
    pipe = build_pipeline(spec, pre_mixed.types, "classification", {}, LogisticRegression(), seed=0)
    assert not isinstance(pipe, DropTrainingRows)  # columns.age.impute defaults to its first choice, mean
    parts = {name: t for name, t, _ in pipe.named_steps["preprocess"].transformers}
    assert isinstance(parts["numeric"].named_steps["scale"], StandardScaler)
    assert "outliers" not in parts["numeric"].named_steps  # first choice: none
    assert pipe.named_steps["select1"].k == 3


@pytest.mark.parametrize("value", ["iqr", {"method": "iqr"}, None, "none"])
def test_outlier_options_as_the_search_may_hand_them(pre_spec, pre_mixed, value):
    spec = pre_spec({"numeric": {"outliers": {"choice": [None, {"method": "iqr"}]}}})
    pipe = build_pipeline(spec, pre_mixed.types, "classification", {"preprocess.numeric.outliers": value}, LogisticRegression(), seed=0)
    steps = pipe.named_steps["preprocess"].transformers[0][1].named_steps
    assert ("outliers" in steps) == (value not in (None, "none"))
