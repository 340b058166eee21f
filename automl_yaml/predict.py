"""Predictions with a trained model: ``mlx predict`` and ``automl_yaml.predict``.

A model is named as MLflow names it — ``runs:/<run id>/model``,
``models:/<name>@<alias>``, ``models:/<name>/<version>`` — or by a folder:
the output folder of a run, or a model folder itself.

Loading a model runs code stored in it (scikit-learn models are pickles):
load only models you trust. MLflow loads them unless
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is false (it is true when unset);
``mlx predict`` allows it for the model *you* name, only while loading it,
and keeps an explicit ``false`` of yours.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .errors import UsageError


def _model_uri(model: str | os.PathLike) -> str:
    text = str(model)
    if text.startswith(("runs:/", "models:/", "s3://", "gs://", "https://", "http://", "mlflow-artifacts:")):
        return text
    path = Path(text).expanduser()
    if (path / "MLmodel").is_file():
        return str(path.resolve())
    if (path / "model" / "MLmodel").is_file():
        return str((path / "model").resolve())
    if path.exists():
        raise UsageError(f"{path} holds no model", hint="give a run's output folder, its model/ folder, runs:/<id>/model or models:/<name>@<alias>")
    from .errors import did_you_mean

    parent = path.parent if path.parent.is_dir() else None
    close = did_you_mean(path.name, [p.name for p in parent.iterdir() if p.is_dir()]) if parent else []
    if close:
        raise UsageError(f"no model at '{text}'", hint="did you mean " + " or ".join(f"'{parent / c}'" for c in close) + "?")
    raise UsageError(f"no model at '{text}'", hint="give a run's output folder, runs:/<run id>/model or models:/<name>@<alias>")


_PICKLE_FLAG = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"


def pickle_refused() -> bool:
    """True when the user turned MLflow's loading of pickles off (``false`` or ``0``; unset is on)."""
    return os.environ.get(_PICKLE_FLAG, "").strip().lower() in ("false", "0")


@contextlib.contextmanager
def _pickle_allowed():
    """MLflow may load the named model's pickle; the variable is as it was afterwards."""
    old = os.environ.get(_PICKLE_FLAG)
    os.environ[_PICKLE_FLAG] = "true"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(_PICKLE_FLAG, None)
        else:
            os.environ[_PICKLE_FLAG] = old


def load_model(model: str | os.PathLike, *, tracking_uri: str | None = None):
    """The :class:`~automl_yaml.model.TrainedModel` behind a model URI or folder."""
    from .errors import AutomlYamlError
    from .spec import mask_url

    uri = _model_uri(model)
    if pickle_refused():
        raise UsageError(
            f"cannot load the model '{mask_url(uri)}': MLFLOW_ALLOW_PICKLE_DESERIALIZATION is false in this environment, "
            "and the model is a pickle (loading it runs code stored in it)",
            hint="for a model you trust: MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true mlx predict ...",
        )
    local = Path(uri) if "://" not in uri and ":/" not in uri else None
    if local is not None:
        try:
            fitted = _load_local(local)
        except Exception as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UsageError(f"cannot load the model '{uri}': {msg}", hint="the folder holds a damaged model: run the spec again") from None
        if fitted is not None:
            return fitted
    from .tracking import _quiet_mlflow, using_uri

    _quiet_mlflow()
    import mlflow

    try:
        with using_uri(tracking_uri), _pickle_allowed():  # the user named this model
            return mlflow.sklearn.load_model(uri)
    except AutomlYamlError:
        raise
    except Exception as exc:
        msg = mask_url(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot load the model '{mask_url(uri)}': {msg}", hint="check the URI, and the tracking URI (--tracking-uri / MLFLOW_TRACKING_URI)") from None


def _load_local(path: Path):
    """The pickled model of a local MLflow model folder, without importing MLflow (None: let MLflow load it).

    ``mlx predict`` of 5 rows took 5-8 s, half of it importing MLflow (its
    GenAI and tracing modules) to read one pickle. What MLflow does for a
    local folder of the ``sklearn`` flavor saved as (cloud)pickle is done here:
    read ``MLmodel``, unpickle its ``pickled_model``. Any other format (skops)
    goes through MLflow.
    """
    import pickle

    import yaml

    conf = yaml.safe_load((path / "MLmodel").read_text(encoding="utf-8")) or {}
    flavor = (conf.get("flavors") or {}).get("sklearn") or {}
    name = flavor.get("pickled_model")
    if flavor.get("serialization_format") not in ("pickle", "cloudpickle") or not isinstance(name, str):
        return None
    with open(path / name, "rb") as f:
        return pickle.load(f)  # cloudpickle writes standard pickles (its helpers are imported by name)


_SPEC_SOURCE = re.compile(r"^(?P<spec>.+\.ya?ml):(?P<source>[A-Za-z_][A-Za-z0-9_.\-]*)$")


def read_input(path: str, *, base_dir: Path | None = None):
    """Read the input through the same source layer runs use.

    ``path`` is a data file or URL (CSV, Parquet, JSON, Excel...), or
    ``SPEC.yaml:SOURCE`` — a source defined in a spec (an SQL query, a Mongo
    collection...), read with that spec's settings and ``${VAR}`` values.
    """
    from .data.sources import FileSource as Reader
    from .data.sources import open_source
    from .errors import did_you_mean, suggestion_hint
    from .spec.models import FileSource

    m = _SPEC_SOURCE.match(path)
    if m and Path(m.group("spec")).is_file():
        from .spec import load_spec

        loaded = load_spec(m.group("spec"), semantic=False)
        name = m.group("source")
        if name not in loaded.spec.sources:
            raise UsageError(f"{m.group('spec')} defines no source '{name}'", hint=suggestion_hint(name, loaded.spec.sources, what="source"))
        if loaded.spec.sources[name].kind == "frame":
            raise UsageError(
                f"source '{name}' of {m.group('spec')} is a `kind: frame` source: its rows are given from Python, there is nothing to read",
                hint="from Python, predict a DataFrame directly: automl_yaml.predict(model, df); else give a data file to --input",
            )
        return open_source(name, loaded.spec.sources[name], base_dir=loaded.base_dir).load()
    base = base_dir or Path.cwd()
    local = "://" not in path and not any(c in path for c in "*?[")
    target = base / Path(path).expanduser()
    if local and not target.exists():
        close = did_you_mean(target.name, [p.name for p in target.parent.glob("*") if p.is_file()])
        hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?" if close else "give a data file (CSV, Parquet, JSON, Excel...) or SPEC.yaml:SOURCE"
        raise UsageError(f"no input file '{path}' (looked in {target.parent})", hint=hint)
    spec = FileSource(path=path)
    return Reader("input", spec, base_dir=base).load()


def predict(model, data, *, proba: bool = False, keep: Sequence[str] = (), tracking_uri: str | None = None):
    """Predictions as a DataFrame (``prediction`` and, with ``proba``, ``proba_<class>`` columns).

    Args:
        model: A :class:`TrainedModel`, a model URI, or a folder.
        data: A DataFrame, or the path/URL of a data file.
        keep: Input columns carried through, first and unchanged (an id to join on).
    """
    import pandas as pd

    from .model import TrainedModel

    if not isinstance(data, (pd.DataFrame, str, os.PathLike)):
        raise TypeError(f"data is a DataFrame or the path of a data file, not {type(data).__name__}")
    frame = data if isinstance(data, pd.DataFrame) else read_input(str(data))
    kept = kept_columns(frame, keep, proba=proba)
    m = model if isinstance(model, TrainedModel) else load_model(model, tracking_uri=tracking_uri)
    return with_kept(kept, m.predict_frame(model_input(frame, kept, m), proba=proba))


def kept_columns(frame, keep: Sequence[str], *, proba: bool):
    """The input's columns named by ``--keep`` (checked before the model loads), or None."""
    from .errors import suggestion_hint

    if not keep:
        return None
    columns = {str(c): c for c in frame.columns}
    for name in keep:
        if name not in columns:
            raise UsageError(f"--keep {name}: the input has no column '{name}'", hint=suggestion_hint(name, list(columns), what="column"))
        if name == "prediction" or (proba and name.startswith("proba_")):
            raise UsageError(f"--keep {name}: the predictions have a column of that name", hint="rename the input column, or leave it out of --keep")
    return frame[[columns[n] for n in dict.fromkeys(keep)]]


def model_input(frame, kept, model):
    """``frame`` without the kept columns the model does not use (an id): kept on purpose, they are not 'ignored' with a warning."""
    if kept is None:
        return frame
    features = set(getattr(model, "features", None) or ())
    return frame.drop(columns=[c for c in kept.columns if c not in features])


def with_kept(kept, result):
    """``kept`` columns, then the predictions (row for row: the model keeps the input's order)."""
    if kept is None:
        return result
    import pandas as pd

    return pd.concat([kept.reset_index(drop=True), result.reset_index(drop=True)], axis=1)


def write_output(frame, path: str) -> Path:
    from .io import atomic_path

    out = Path(path)
    suffix = out.suffix.lower()
    with atomic_path(out) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        elif suffix in (".json", ".jsonl"):
            frame.to_json(tmp, orient="records", lines=suffix == ".jsonl")
        else:
            raise UsageError(f"cannot write predictions as '{suffix or out.name}'", hint="use .csv, .parquet, .json or .jsonl")
    return out


def _refuse_overwriting_input(input: str, output: str) -> None:
    """--output naming the --input file (or the file of the spec source it names) would replace the data with predictions."""
    m = _SPEC_SOURCE.match(input)
    candidates = [input]
    if m and Path(m.group("spec")).is_file():
        candidates = [m.group("spec")]
        with contextlib.suppress(Exception):  # an unreadable spec is read_input's to report
            from .spec import load_spec

            loaded = load_spec(m.group("spec"), semantic=False)
            source = loaded.spec.sources.get(m.group("source"))
            if source is not None and source.kind == "file" and "://" not in source.path:
                candidates.append(str(loaded.base_dir / Path(source.path).expanduser()))
    out = Path(output).expanduser()
    for candidate in candidates:
        path = Path(candidate).expanduser()
        if "://" not in candidate and path.exists() and out.exists() and path.resolve() == out.resolve():
            raise UsageError(
                f"--output {output} is the file the input is read from: the predictions would replace it",
                hint="write the predictions to another file, e.g. --output predictions" + (Path(output).suffix or ".csv"),
            )


def predict_cli(*, model: str, input: str, output: str, proba: bool, tracking_uri: str | None, keep: Sequence[str] = ()) -> None:
    import warnings

    from rich.markup import escape

    from .console import make_console

    console = make_console(highlight=False)
    suffix = Path(output).suffix.lower()
    if suffix not in (".csv", ".parquet", ".json", ".jsonl"):
        raise UsageError(f"cannot write predictions as '{suffix or output}'", hint="use .csv, .parquet, .json or .jsonl")
    _refuse_overwriting_input(input, output)
    # A spinner on a terminal (nothing in a log): a big input or model takes seconds per step.
    with console.status(f"reading {input}"):
        frame = read_input(input)
    kept = kept_columns(frame, keep, proba=proba)
    with console.status(f"loading the model {model}"):
        m = load_model(model, tracking_uri=tracking_uri)
    with console.status(f"predicting {len(frame):,} rows"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = m.predict_frame(model_input(frame, kept, m), proba=proba)
    for w in caught:
        if "ignoring" in str(w.message) or "not seen in training" in str(w.message):
            console.print(f"[yellow]warning:[/yellow] {escape(str(w.message))}")
    result = with_kept(kept, result)
    with console.status(f"writing {output}"):
        write_output(result, output)
    console.print(f"wrote {len(result):,} prediction{'s' if len(result) != 1 else ''} to {escape(str(output))}")
