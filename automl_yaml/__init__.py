"""automl-yaml: declarative AutoML from one YAML spec.

The library does what the ``mlx`` command does::

    import automl_yaml

    loaded = automl_yaml.load_spec("spec.yaml", overrides=["search.budget.trials=20"])
    report = automl_yaml.validate("spec.yaml")          # problems, never raises for spec errors
    plan = automl_yaml.plan("spec.yaml")                # the graph of steps `mlx run` executes
    result = automl_yaml.run("spec.yaml")               # best params, scores, paths, leaderboard
    result = automl_yaml.run("spec.yaml", frames={"train": df})  # `train: {kind: frame}` from a DataFrame
    preds = automl_yaml.predict(result.model_path, df)  # predictions of a trained model

Everything here is imported lazily: ``import automl_yaml`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_spec", "validate", "plan", "run", "predict", "json_schema"]

if TYPE_CHECKING:  # pragma: no cover
    from .planner import Plan
    from .spec import LoadedSpec, ValidationReport


def load_spec(source, **kwargs) -> LoadedSpec:
    """Load and validate a spec (a path or a mapping); raises ``SpecError``. See :func:`automl_yaml.spec.load_spec`."""
    from .spec import load_spec as _load

    return _load(source, **kwargs)


def validate(source, **kwargs) -> ValidationReport:
    """Check a spec and return a report of every problem. See :func:`automl_yaml.spec.validate`."""
    from .spec import validate as _validate

    return _validate(source, **kwargs)


def plan(source, *, overrides=(), frames=None, **kwargs) -> Plan:
    """The compiled plan of a spec (a path, a mapping or a ``LoadedSpec``); a plan reads no data, so frames are only checked."""
    from .planner import plan as _plan
    from .spec import LoadedSpec
    from .spec import load_spec as _load

    loaded = source.with_frames(frames) if isinstance(source, LoadedSpec) else _load(source, overrides=overrides, frames=frames)
    return _plan(loaded, **kwargs)


def run(source, *, overrides=(), frames=None, **kwargs) -> Any:
    """Run a spec end to end; returns a ``RunResult``. See :func:`automl_yaml.runner.run`.

    ``frames={"train": df}`` gives the DataFrames of ``kind: frame`` sources; a spec
    mapping may also hold a DataFrame in place of a source: ``{"sources": {"train": df}, ...}``.
    """
    from .runner import run as _run

    return _run(source, overrides=overrides, frames=frames, **kwargs)


# The submodule ``predict`` shares its name with the function below. Importing a
# submodule binds it on the package the first time, which replaced the function:
# a second ``automl_yaml.predict(...)`` (or one after ``mlx predict``) raised
# "'module' object is not callable". Importing it here, before the function is
# defined, binds the name once and for all (a module in ``sys.modules`` is not
# bound again); the submodule imports nothing heavy.
from . import predict as _predict_module  # noqa: E402


def predict(model, data, **kwargs) -> Any:
    """Predictions of a trained model for a DataFrame or a data file. See :func:`automl_yaml.predict.predict`."""
    return _predict_module.predict(model, data, **kwargs)


def json_schema() -> dict:
    """The JSON Schema of the spec language."""
    from .spec import json_schema as _schema

    return _schema()
