"""Class probabilities for a classifier that has none of its own (SVMs, LinearSVC, RidgeClassifier...).

A model the tool hands back answers ``mlx predict --proba`` unless the spec
turns that off (``models.<name>.probabilities: false``). An SVM picked for
``roc_auc`` (scored on its decision function) had none: ``--proba`` failed.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted


def _inner_has(attr: str):
    def check(self) -> bool:
        return hasattr(getattr(self, "estimator_", self.estimator), attr)

    return check


class WithProbabilities(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """``estimator`` fitted on every row, with probabilities calibrated on its out-of-fold scores.

    ``predict`` and ``decision_function`` are the estimator's own, so the model
    behaves as the one the search scored (``roc_auc`` is unchanged);
    ``predict_proba`` maps its scores to probabilities with Platt's sigmoid
    fitted on cross-validated scores: ``CalibratedClassifierCV(estimator,
    ensemble=False)``, which scikit-learn 1.9 recommends instead of
    ``SVC(probability=True)`` (deprecated there, removed in 1.11). It costs
    ``cv`` more fits (fewer folds when a class has fewer rows).
    """

    def __init__(self, estimator, cv: int = 5):
        self.estimator = estimator
        self.cv = cv

    def fit(self, X, y, **params):
        _, counts = np.unique(np.asarray(y), return_counts=True)
        folds = int(min(self.cv, counts.min()))
        if folds >= 2:
            calibrated = CalibratedClassifierCV(clone(self.estimator), cv=folds, ensemble=False).fit(X, y, **params)
        else:  # a class of one row: no out-of-fold score for it; calibrate on the training scores
            from sklearn.frozen import FrozenEstimator

            fitted = clone(self.estimator).fit(X, y, **params)
            every = np.arange(len(y))
            calibrated = CalibratedClassifierCV(FrozenEstimator(fitted), cv=[(every, every)], ensemble=False).fit(X, y)
        self.calibrated_ = calibrated
        inner = calibrated.calibrated_classifiers_[0].estimator
        self.estimator_ = getattr(inner, "estimator", inner)  # the fitted estimator (unfrozen)
        self.classes_ = calibrated.classes_
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        return self

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.predict_proba(X)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    @property
    def coef_(self):
        """The estimator's coefficients (the report's importances), if it has them."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.coef_

    @property
    def feature_importances_(self):
        check_is_fitted(self, "estimator_")
        return self.estimator_.feature_importances_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        from sklearn.utils import get_tags

        tags.input_tags = get_tags(self.estimator).input_tags
        return tags


def gives_probabilities(estimator) -> bool:
    """Whether an unfitted classifier will have ``predict_proba`` once fitted."""
    return hasattr(estimator, "predict_proba")
