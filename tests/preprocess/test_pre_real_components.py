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
    assert svm.get_params()["probability"] in ((expected,) if asked else ("deprecated", False))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), np.repeat([0, 1, 2], 20)
    svm.fit(X, y)
    if expected:
        assert np.isfinite(get_scorer("neg_log_loss")(svm, X, y))
    else:
        with pytest.raises(AttributeError, match="predict_proba"):
            get_scorer("neg_log_loss")(svm, X, y)
    # other models do not take the flag
    assert "probability" not in make_estimator("random_forest", {}, "classification", needs_proba=True).get_params()
