"""Preprocessing and feature selection, compiled into scikit-learn pipelines.

* :func:`build_pipeline` — the ``preprocess`` and ``select`` sections of a spec
  plus an estimator -> one unfitted pipeline, fitted inside every CV fold;
* :func:`selected_features` — the feature names that reach the model;
* :func:`resolve_option` — a spec value, or the value the search chose for it.

The registries' ``transforms`` and ``selectors`` names point to the factories
in :mod:`.transforms` and :mod:`.selectors`.
"""

from .pipeline import build_pipeline, resolve_option, selected_features, unwrap

__all__ = ["build_pipeline", "resolve_option", "selected_features", "unwrap"]
