"""Build estimators from registered names (imports the library on use)."""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import UsageError
from . import catalog


def estimator_class(name: str, task: str) -> type:
    """The class registered under ``name`` for ``task``.

    Raises:
        UsageError: if ``name`` has no variant for ``task``.
    """
    from ..registry import Entry

    classes = catalog.estimator_classes(name)
    if task not in classes:
        kind = "classifier" if "classification" in classes else "regressor"
        raise UsageError(f"'{name}' is a {kind}, but the task is {task}", hint="set data.task or choose a model of that task")
    return Entry(name, classes[task]).load()


def make_estimator(
    name: str, params: dict[str, Any], task: str, *, seed: int | None = None, n_jobs: int | None = 1, needs_proba: bool = False
) -> Any:
    """An unfitted estimator with ``params``, seeded and single-threaded by default.

    ``random_state`` is set from the spec's seed (unless given) so that runs
    repeat; ``n_jobs`` is 1 because trials already run in parallel processes.
    ``needs_proba``: a metric scores predicted probabilities (``log_loss``,
    ``brier``: :data:`~automl_yaml.components.catalog.NEEDS_PROBA`), so an SVM
    computes them (``probability: true``) unless its params say otherwise;
    without them every SVM trial failed with "Pipeline has none of the
    following attributes: predict_proba".
    """
    cls = estimator_class(name, task)
    params = dict(params)
    accepted = _accepted(cls)
    if seed is not None and "random_state" in accepted and "random_state" not in params:
        params["random_state"] = seed
    if n_jobs is not None and "n_jobs" in accepted and "n_jobs" not in params and cls.__name__ not in _N_JOBS_IS_A_NO_OP:
        params["n_jobs"] = n_jobs
    if cls.__name__.startswith("LGBM") and "verbose" not in params:
        params["verbose"] = -1
    if needs_proba and cls.__name__.startswith("SVC") and "probability" not in params:
        # deprecated in scikit-learn 1.9 (removed in 1.11: CalibratedClassifierCV then); its
        # default gives none, and setting it, even to False, warns at every fit
        params["probability"] = True
    return cls(**params)


def needs_proba(scorer_names) -> bool:
    """Whether any of these scikit-learn scorers scores predicted probabilities (``neg_log_loss``...)."""
    return any(n in catalog.NEEDS_PROBA for n in scorer_names if n)


# Estimators that still take n_jobs but warn that it has no effect (scikit-learn >= 1.8).
_N_JOBS_IS_A_NO_OP = {"LogisticRegression"}


def _accepted(cls: type) -> set[str]:
    try:
        return set(cls().get_params(deep=False))
    except Exception:
        return set(inspect.signature(cls.__init__).parameters)
