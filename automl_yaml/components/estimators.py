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
    ``needs_proba``: the classifier must give class probabilities (a metric
    scores them, ``log_loss``; or it is the model handed back, whose
    ``mlx predict --proba`` must work). One without its own (an SVM,
    LinearSVC, RidgeClassifier...) is wrapped in
    :class:`~automl_yaml.components.proba.WithProbabilities`, unless its params
    set ``probability`` (an SVM's own, ``true``; or ``false``: none). Without
    them every SVM trial of ``log_loss`` failed with "Pipeline has none of the
    following attributes: predict_proba", and an SVM chosen for ``roc_auc``
    could not answer ``--proba``.
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
    if cls.__name__.startswith("CatBoost"):
        params = _catboost_params(params, seed, n_jobs)
    estimator = cls(**params)
    if needs_proba and task == "classification" and "probability" not in params:
        from .proba import WithProbabilities, gives_probabilities

        if not gives_probabilities(estimator):
            return WithProbabilities(estimator)
    return estimator


def needs_proba(scorer_names) -> bool:
    """Whether any of these scikit-learn scorers scores predicted probabilities (``neg_log_loss``...)."""
    return any(n in catalog.NEEDS_PROBA for n in scorer_names if n)


def _catboost_params(params: dict[str, Any], seed: int | None, n_jobs: int | None) -> dict[str, Any]:
    """CatBoost's names for the seed and the threads, quiet and writing no files.

    Its ``get_params`` lists only the values set, so the generic
    ``random_state``/``n_jobs`` above never apply; and by default it prints
    every iteration and writes ``catboost_info/`` into the working folder.
    """
    params = dict(params)
    if seed is not None and not {"random_seed", "random_state"} & params.keys():
        params["random_seed"] = seed
    if n_jobs is not None and not {"thread_count", "n_jobs"} & params.keys():
        params["thread_count"] = n_jobs
    if not {"verbose", "silent", "logging_level", "verbose_eval"} & params.keys():
        params["verbose"] = 0
    params.setdefault("allow_writing_files", False)
    return params


# Estimators that still take n_jobs but warn that it has no effect (scikit-learn >= 1.8).
_N_JOBS_IS_A_NO_OP = {"LogisticRegression"}


def _accepted(cls: type) -> set[str]:
    try:
        return set(cls().get_params(deep=False))
    except Exception:
        return set(inspect.signature(cls.__init__).parameters)
