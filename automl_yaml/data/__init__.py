"""The data layer: the spec's ``sources`` and ``data`` sections as running code.

* :mod:`~automl_yaml.data.sources` reads one source (a file, an SQL table or
  query, a MongoDB collection, a bundled sample) into a DataFrame, and tells its
  schema and fingerprint without reading every row;
* :mod:`~automl_yaml.data.cache` keeps loaded sources as Parquet, keyed by
  their fingerprint;
* :mod:`~automl_yaml.data.assemble` joins the sources, infers the task and the
  column types and cuts the held-out test set (:func:`build_dataset`);
* :mod:`~automl_yaml.data.check` checks names against the sources' schemas
  for ``mlx validate --check-data``.

Nothing heavy is imported by this package itself; the names below are loaded
on first use::

    from automl_yaml.data import build_dataset
    dataset = build_dataset(load_spec("spec.yaml"))

(The function ``assemble`` is reached through its module,
``automl_yaml.data.assemble.assemble``, as the module has the same name.)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_dataset": "assemble",
    "load_sources": "assemble",
    "split": "assemble",
    "infer_task": "assemble",
    "infer_types": "assemble",
    "Dataset": "assemble",
    "SourceInfo": "assemble",
    "check_data": "check",
    "open_source": "sources",
    "BaseSource": "sources",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
