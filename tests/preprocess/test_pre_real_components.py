"""An SVM scored by a metric of probabilities (log_loss, brier) computes them when asked.

``search.metric: log_loss`` with the default models made every SVM trial fail
("AttributeError: Pipeline has none of the following attributes:
predict_proba"): ``make_estimator(..., needs_proba=True)`` builds an SVC with
``probability=True`` (the run's pipeline factory passes it; see the report).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import get_scorer

from automl_yaml.components.estimators import make_estimator, needs_proba


def test_needs_proba_names_the_scorers_of_probabilities():
    assert needs_proba(["neg_log_loss"]) and needs_proba(["accuracy", "neg_brier_score"])
    assert not needs_proba(["accuracy", "roc_auc", None]) and not needs_proba([])


@pytest.mark.parametrize("asked,given,expected", [(False, {}, False), (True, {}, True), (True, {"probability": False}, False)])
def test_an_svm_gives_probabilities_when_a_metric_needs_them(asked, given, expected):
    svm = make_estimator("svm", given, "classification", seed=0, needs_proba=asked)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), np.repeat([0, 1, 2], 20)
    svm.fit(X, y)
    if expected:
        assert np.isfinite(get_scorer("neg_log_loss")(svm, X, y))
    else:
        with pytest.raises(AttributeError, match="predict_proba"):
            get_scorer("neg_log_loss")(svm, X, y)
    # models with their own probabilities are left as they are
    assert type(make_estimator("random_forest", {}, "classification", needs_proba=True)).__name__ == "RandomForestClassifier"


@pytest.mark.parametrize("name", ["svm", "linear_svm", "ridge_classifier"])
def test_a_model_without_probabilities_keeps_its_own_predictions_and_gains_probabilities(name):
    """The calibrated wrapper predicts as the model the search scored (labels, decision
    function: roc_auc unchanged) and adds probabilities that sum to 1."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    wrapped = make_estimator(name, {}, "classification", seed=0, needs_proba=True).fit(X, y)
    plain = make_estimator(name, {}, "classification", seed=0).fit(X, y)
    assert not hasattr(plain, "predict_proba")
    np.testing.assert_array_equal(wrapped.predict(X), plain.predict(X))
    np.testing.assert_allclose(wrapped.decision_function(X), plain.decision_function(X))
    p = wrapped.predict_proba(X)
    assert p.shape == (len(y), 2) and np.allclose(p.sum(axis=1), 1.0)
    assert get_scorer("roc_auc")(wrapped, X, y) == get_scorer("roc_auc")(plain, X, y)
    assert list(wrapped.classes_) == [0, 1]


def test_probabilities_of_a_class_with_one_row():
    """Fewer rows in a class than calibration folds: fewer folds; one row: calibrated on the training scores."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(41, 3)), np.array([0] * 20 + [1] * 20 + [2])
    model = make_estimator("svm", {}, "classification", seed=0, needs_proba=True).fit(X, y)
    p = model.predict_proba(X)
    assert p.shape == (41, 3) and np.allclose(p.sum(axis=1), 1.0)
