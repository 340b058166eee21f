"""Semantic checks: what the schema alone cannot say.

Runs on a structurally valid :class:`~automl_yaml.spec.models.Spec` and
reports every problem at once: unknown estimators and hyperparameters (with
did-you-mean), values outside what the estimator declares, a metric that does
not fit the task, a classifier on a regression task, a grid over a continuous
range, references to sources that do not exist, and more.

Only the estimator metadata (JSON) is read; nothing heavy is imported.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from .. import registry as R
from ..components import catalog, zoo
from ..components.params import check_value, options_of, takes_int_only
from ..errors import HYPEROPT_PIP, TORCH_PIP, Problem, suggestion_hint
from .hints import value_hint
from .loader import SourceMap, dotted
from .models import Spec
from .space import Choice, FloatRange, IntRange, is_discrete, is_space, walk_spaces

#: SelectFromModel's threshold strings: mean, median, 1.5*mean
_THRESHOLD = re.compile(r"^(?:\d+(?:\.\d*)?\s*\*\s*)?(?:mean|median)$")
#: dialect[+driver]:// (SQLAlchemy's URL form)
_SQL_URL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z0-9_]+)?://")

#: The suffixes a file source reads its format and compression from (``data.sources`` uses
#: these tables; they live here because that module imports pandas, which validate must not).
FILE_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".zip": "zip", ".zst": "zstd", ".zstd": "zstd", ".xz": "xz"}
#: How the warning about a missing local file ends (``mlx validate --check-data`` leaves it out when it reports the source's error).
UNREAD_SOURCE = "`mlx run` will stop when it reads this source"
#: Imputers that need numbers (``preprocess.transforms`` uses this list; that module imports numpy)
NUMERIC_ONLY_IMPUTERS = ("mean", "median", "knn", "iterative")
#: Estimators (class names) with neither ``coef_`` nor ``feature_importances_`` once fitted: the
#: importance and rfe selectors cannot rank features with them (tests/spec/test_spec_more_broken.py checks the list)
NO_IMPORTANCES = frozenset(
    {
        "BaggingClassifier", "BaggingRegressor", "BernoulliNB", "CalibratedClassifierCV", "ComplementNB", "DummyClassifier",
        "DummyRegressor", "GaussianNB", "GaussianProcessClassifier", "GaussianProcessRegressor", "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor", "KNeighborsClassifier", "KNeighborsRegressor", "KernelRidge", "LabelPropagation",
        "LabelSpreading", "MLPClassifier", "MLPRegressor", "MultinomialNB", "NearestCentroid", "NuSVC", "NuSVR",
        "QuadraticDiscriminantAnalysis", "RANSACRegressor", "RadiusNeighborsClassifier", "RadiusNeighborsRegressor", "SVC", "SVR",
        "TransformedTargetRegressor",
    }
)  # fmt: skip
#: The options each column type takes, and why not (``preprocess.pipeline`` uses these tables; that module imports pandas)
COLUMN_OPTIONS = {
    "numeric": {"impute", "fill_value", "scale", "outliers"},
    "categorical": {"impute", "fill_value", "encode"},
    "boolean": {"impute", "fill_value", "scale"},
    "datetime": {"impute", "fill_value", "scale"},
    "text": set(),
}
COLUMN_HINTS = {
    "encode": "only categorical columns are encoded; set `type: categorical` to encode it",
    "scale": "only numeric, boolean and datetime columns are scaled; set `type: numeric` to scale it",
    "outliers": "outliers apply to numeric columns; set `type: numeric`",
    "impute": "text columns are handled by preprocess.text.encode (drop, frequency or tfidf)",
    "fill_value": "text columns are handled by preprocess.text.encode (drop, frequency or tfidf)",
}
#: A grid larger than this without a budget is worth a warning (the run would take days)
GRID_WARN = 10_000
#: A bind parameter of a query: SQLAlchemy's own pattern (``TextClause._bind_params_regex``)
_SQL_BIND = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])", re.UNICODE)
#: The schemes of MLflow tracking URIs ('' and file: a folder)
_TRACKING_SCHEMES = ("", "file", "http", "https", "sqlite", "postgresql", "mysql", "mssql", "databricks", "databricks-uc", "uc")
#: URL schemes fsspec always knows; any other is looked up in fsspec's registry (imported only then)
_COMMON_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "http", "https", "file", "abfs", "az", "ftp", "sftp", "hdfs", "memory", "hf", "github"})
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def file_format(path: str, given: str | None) -> tuple[str | None, str | None]:
    """``(format, compression)`` of a file source, as its reader will tell them (format None: it cannot)."""
    if "://" in path:
        path = urlsplit(path).path  # not the query string (?token=...)
    name = path.rstrip("/").rsplit("/", 1)[-1].lower()
    stem, dot, suffix = name.rpartition(".")
    compression = COMPRESSIONS.get("." + suffix) if dot else None
    if compression:
        name = stem
    inner = "." + name.rpartition(".")[2] if "." in name else ""
    return given or FILE_FORMATS.get(inner), compression


def _url_schemes() -> set[str]:
    try:
        from fsspec.registry import known_implementations, registry
    except ImportError:  # pandas reads URLs through fsspec: without it none can be read anyway
        return set(_COMMON_SCHEMES)
    return set(known_implementations) | set(registry) | _COMMON_SCHEMES


class Checker:
    """The checks. ``spec`` may be a partial view whose invalid sections are None."""

    def __init__(self, spec: Spec | Any, smap: SourceMap, failed: frozenset[str] = frozenset(), base_dir: Path | None = None):
        self.spec = spec
        self.smap = smap
        self.base_dir = base_dir
        self.failed = failed
        self.task_source = ""
        self.problems: list[Problem] = []

    # ------------------------------------------------------------------ helpers
    def error(self, path: tuple, message: str, hint: str | None = None, *, key: bool = False) -> None:
        self.problems.append(Problem(message, path=dotted(path), location=self.smap.locate(path, key=key), hint=hint))

    def warn(self, path: tuple, message: str, hint: str | None = None) -> None:
        self.problems.append(
            Problem(message, path=dotted(path), location=self.smap.locate(path), hint=hint, severity="warning")
        )

    def show(self, path: tuple, value: Any) -> str:
        return self.smap.display(path, value)

    # ------------------------------------------------------------------- checks
    def run(self) -> list[Problem]:
        self.check_sources()
        task = self.static_task()
        self.check_models(task)
        self.check_metric(task)
        self.check_select(task)
        self.check_split(task)
        self.check_columns()
        self.check_preprocess()
        self.check_search()
        self.check_environment()
        return self.problems

    def check_sources(self) -> None:
        spec = self.spec
        if spec.sources is None or spec.data is None:
            return
        names = list(spec.sources)
        main = spec.data.from_
        if main is not None and main not in spec.sources:
            self.error(("data", "from"), f"no source named '{main}'", suggestion_hint(main, names, what="source"))
        seen = {main or names[0]}
        for i, j in enumerate(spec.data.join):
            path = ("data", "join", i, "source")
            if j.source not in spec.sources:
                self.error(path, f"no source named '{j.source}'", suggestion_hint(j.source, names, what="source"))
            elif j.source in seen:
                self.error(path, f"source '{j.source}' is already part of the table", "each source can be used once")
            seen.add(j.source)
        for name, src in spec.sources.items():
            field = {"file": "path", "sql": "url", "mongo": "uri"}.get(src.kind)
            value = getattr(src, field, None) if field else None
            if isinstance(value, str) and not value.strip():
                path = ("sources", name, field)
                raw = self.smap.raw.get(path)
                hint = f"{raw} gave an empty string: set the variable, or give a non-empty default" if raw else None
                self.error(path, f"`{field}` is empty", hint)
            elif src.kind == "file" and isinstance(value, str):
                self.check_file_path(name, src)
            elif src.kind == "sql" and isinstance(value, str) and _SQL_URL.match(value):
                self.check_sql(name, src)
            elif src.kind == "mongo" and isinstance(value, str):
                self.check_mongo(name, src)
            elif src.kind == "sql" and isinstance(value, str) and not _SQL_URL.match(value):
                path = ("sources", name, "url")
                self.error(
                    path,
                    f"{self.show(path, value)} is not an SQLAlchemy URL",
                    "dialect://user:password@host:port/database, e.g. postgresql://${PGUSER}:${PGPASSWORD}@localhost:5432/zoo or sqlite:///file.db",
                )
        current = spec.monitor.current
        if current is not None and current not in names:
            self.error(("monitor", "current"), f"there is no source '{current}'", suggestion_hint(current, names, what="source"))
        unused = [n for n in names if n not in seen and n != current]
        for n in unused:
            hint = "join it in data.join, or remove it"
            if n.startswith("x-"):
                hint = "a block that only holds a YAML anchor belongs at the top level (x- keys are ignored there), not in sources"
            self.warn(("sources", n), f"source '{n}' is not used", hint)

    def check_sql(self, name: str, src: Any) -> None:
        """An SQL source: the query's :name placeholders all given; a SQLite file that is there."""
        if src.query and not self.smap.is_interpolated(("sources", name, "query")):
            given = set(src.params or {})
            missing = [p for p in dict.fromkeys(_SQL_BIND.findall(src.query)) if p not in given]
            if missing:
                self.error(
                    ("sources", name, "query"),
                    f"the query uses :{missing[0]}, which `params` does not give" + (f" (nor {', '.join(':' + m for m in missing[1:])})" if missing[1:] else ""),
                    f"add params: {{{', '.join(m + ': ...' for m in missing)}}}",
                )
        url_path = ("sources", name, "url")
        m = re.match(r"^sqlite(?:\+\w+)?:///(?P<db>[^?]+)", src.url)
        if m and self.base_dir is not None and not self.smap.is_interpolated(url_path):
            db = m.group("db")
            if db != ":memory:" and not db.startswith("file:"):
                self._check_local_file(url_path, db, what="database file")

    def check_mongo(self, name: str, src: Any) -> None:
        path = ("sources", name, "uri")
        if not self.smap.is_interpolated(path) and not src.uri.startswith(("mongodb://", "mongodb+srv://")):
            self.error(path, f"{self.show(path, src.uri)} is not a MongoDB connection string", "mongodb://user:${MONGO_PASSWORD}@host:27017 or mongodb+srv://cluster.example.net")
        for field in ("database", "collection"):
            if not getattr(src, field).strip():
                self.error(("sources", name, field), f"`{field}` is empty", f"name the {field}")

    def check_file_path(self, name: str, src: Any) -> None:
        """What a file source's reader refuses before it reads a byte: an unknown URL scheme, an unknown format."""
        path = ("sources", name, "path")
        # a shorthand (`name: ${DATA}/x.csv`) was interpolated as the source itself
        shown = self.show(("sources", name) if ("sources", name) in self.smap.raw else path, src.path)
        m = _URL_SCHEME.match(src.path)
        if m and "::" not in src.path and m.group(1).lower() not in _COMMON_SCHEMES:
            known = _url_schemes()
            scheme = m.group(1).lower()
            if scheme not in known:
                close = suggestion_hint(scheme, sorted(known))
                hint = close if close.startswith("did you mean") else "a local path, or a URL such as s3://bucket/key, https://host/file.csv, gs://..."
                self.error(path, f"unknown URL scheme '{m.group(1)}://' in {shown}", hint)
                return
        if "$" not in src.path and "://" not in src.path and self.base_dir is not None and not self.smap.is_interpolated(path):
            self._check_local_file(path, src.path)
        fmt, compression = file_format(src.path, src.format)
        if fmt is None:
            self.error(path, f"cannot tell the format of {shown} from its suffix", "add `format:` (csv, tsv, parquet, json, jsonl or excel)")
        elif compression and fmt in ("parquet", "excel"):
            word = {"parquet": "Parquet", "excel": "Excel"}[fmt]
            self.error(
                path,
                f"{word} files are compressed inside; a {compression}-compressed file cannot be read as {word}",
                "decompress it, or save the table as plain Parquet",
            )

    def _check_local_file(self, path: tuple, given: str, what: str = "file") -> None:
        """A local source file that is not there: a warning (the data may come later: a CI checkout, a DVC pull)."""
        p = Path(given).expanduser()
        where = "check the path" if p.is_absolute() else f"relative paths are relative to the spec's folder, {self.base_dir}"
        p = p if p.is_absolute() else self.base_dir / p
        try:
            if p.exists():
                return
            folder = p.parent
            names = [c.name for c in folder.iterdir()] if folder.is_dir() else None
        except OSError:
            return
        if names is None:
            hint = f"no folder {folder} ({where})"
        else:
            close = suggestion_hint(p.name, names)
            hint = close if close.startswith("did you mean") else where
        self.warn(path, f"{what} not found: {p}; {UNREAD_SOURCE}", hint)

    def static_task(self) -> str | None:
        """The task, when the spec alone tells it (explicit, or implied by metric or models)."""
        spec = self.spec
        self.task_source = ""
        if spec.data is not None and spec.data.task != "auto":
            return spec.data.task
        for m in spec.search.metrics() if spec.search else ():
            if m in R.metrics:
                t = R.metrics.get(m).meta.get("task")
                if t in ("classification", "regression"):
                    self.task_source = f" (implied by the metric '{m}')"
                    return t
        tasks = set()
        for key, model in (spec.models or {}).items():
            try:
                classes = catalog.estimator_classes(model.estimator or key)
            except Exception:
                continue
            if len(classes) == 1:
                tasks.add(next(iter(classes)))
        if len(tasks) == 1:
            return tasks.pop()
        return None

    def check_models(self, task: str | None) -> None:
        spec = self.spec
        if spec.models is None:
            return
        if not spec.models:
            self.error(("models",), "no models given", "list at least one, or remove `models` to use the model zoo")
            return
        tasks_seen: dict[str, str] = {}
        for key, model in spec.models.items():
            name = model.estimator or key
            path = ("models", key) + (("estimator",) if model.estimator else ())
            if name not in R.estimators:
                message, hint = catalog.unknown_estimator(name)
                if not model.estimator and hint and hint.startswith("known estimator names"):
                    # nothing close: maybe a name of the user's own for the entry
                    hint = f"a key is the estimator's name unless `estimator:` gives it ({key}: {{estimator: random_forest, ...}}); {hint}"
                elif not model.estimator and hint and hint.startswith("did you mean"):
                    close = re.findall(r"'([^']+)'", hint)
                    # not a typo of it (random_forrest) but a name of the user's own (champion_forest)
                    if close and difflib.SequenceMatcher(None, key.lower(), close[0].lower()).ratio() < 0.85:
                        hint += f" (to keep the name '{key}': {key}: {{estimator: {close[0]}, ...}})"
                self.error(path, message, hint, key=not model.estimator)
                continue
            classes = catalog.estimator_classes(name)
            if task is not None and task not in classes:
                other = next(iter(classes))
                self.error(
                    path,
                    f"'{name}' is a {'classifier' if other == 'classification' else 'regressor'} but the task is {task}{self.task_source}",
                    _task_hint(name, task),
                    key=not model.estimator,
                )
                continue
            if not model.probabilities and self.spec.search is not None:
                scored = [m for m in self.spec.search.metrics() if R.metrics.get(m).meta.get("scorer") in catalog.NEEDS_PROBA]
                if scored:
                    self.error(
                        ("models", key, "probabilities"),
                        f"false turns them off, but search.metric {scored[0]} scores predicted probabilities",
                        "leave out probabilities: false, or optimise a metric of labels or scores (accuracy, roc_auc)",
                    )
            if task is None and len(classes) == 1:
                tasks_seen[key] = next(iter(classes))
            targets = [classes[task]] if task else list(classes.values())
            if model.params:
                before = len(self.problems)
                self.check_params(("models", key, "params"), name, targets, model.params)
                if len(self.problems) == before and "sklearn.linear_model:LogisticRegression" in targets:
                    self.check_logistic(("models", key, "params"), model.params)
        if task is None and len(set(tasks_seen.values())) > 1:
            cls_ = [k for k, t in tasks_seen.items() if t == "classification"]
            reg = [k for k, t in tasks_seen.items() if t == "regression"]
            self.error(
                ("models",),
                f"classifiers ({', '.join(cls_)}) and regressors ({', '.join(reg)}) are mixed",
                "set data.task, and keep the models of that task",
            )

    def check_logistic(self, path: tuple, params: dict[str, Any]) -> None:
        """LogisticRegression's rules across parameters (scikit-learn checks them only in ``fit``, so every trial would fail).

        Each combination of the values the spec fixes or lists (both ends and the middle of a range)
        is checked: when none can be fitted, an error; when some cannot, a warning.
        """
        info = catalog.estimator_info("sklearn.linear_model:LogisticRegression") or {"params": {}}
        names = ("penalty", "l1_ratio", "C", "solver", "dual")

        def candidates(pname: str) -> list:
            if pname not in params:
                return [info["params"].get(pname, {}).get("default", None)]
            value = params[pname]
            if isinstance(value, Choice):
                return list(value.choice)
            if isinstance(value, (IntRange, FloatRange)):
                return [value.low, (value.low + value.high) / 2, value.high]
            return [value]

        combos = list(itertools.product(*(candidates(n) for n in names)))
        failures = [(combo, _logistic_error(*combo)) for combo in combos]
        failures = [(combo, why) for combo, why in failures if why]
        if not failures:
            return
        culprit = next((n for n in ("solver", "penalty", "l1_ratio", "dual", "C") if n in params), None)
        if culprit is None:
            return
        (penalty, l1_ratio, _, solver, dual), why = failures[0]
        hint = "dual: true needs solver: liblinear and the l2 penalty" if "dual" in why else "solver: saga takes every penalty; liblinear takes l1 and l2"
        if len(failures) == len(combos):
            self.error(path + (culprit,), f"LogisticRegression cannot be fitted: {why}", hint)
        else:
            self.warn(
                path + (culprit,),
                f"some of the values searched for {', '.join(n for n in names if n in params)} cannot be fitted together "
                f"(e.g. {why}): the trials that draw them fail",
                hint,
            )

    def check_params(self, path: tuple, name: str, targets: list[str], params: dict[str, Any]) -> None:
        infos = [(t, catalog.estimator_info(t)) for t in targets]
        infos = [(t, i) for t, i in infos if i is not None]
        if not infos:
            return  # a plugin estimator without metadata: nothing to check statically
        for pname, value in params.items():
            ppath = path + (pname,)
            declared = [(t, i["params"][pname]) for t, i in infos if pname in i["params"]]
            if not declared:
                if any(i.get("kwargs") for _, i in infos):
                    continue  # LightGBM/XGBoost pass unknown keyword arguments to the library
                allowed = sorted(set().union(*(i["params"] for _, i in infos)))
                cls = "/".join(t.rpartition(":")[2] for t, _ in infos)
                hint = suggestion_hint(pname, allowed, what="parameter")
                other = self._other_task_owner(name, targets, pname)
                if other:
                    hint = f"'{pname}' is a parameter of {other} only, and the task is {self._task_word(targets)}"
                self.error(ppath, f"unknown parameter '{pname}' for {cls}", hint, key=True)
                continue
            if pname == "random_state":
                self.warn(ppath, "random_state is set from the spec's seed", "remove it and set `seed:` instead")
            for target, param in declared:
                msg = self._check_param_value(ppath, param, value)
                if msg:
                    self.error(self._culprit(ppath, param, value), f"{target.rpartition(':')[2]}.{pname} {msg}", self._param_hint(param, value, ppath))
                    break

    def _check_param_value(self, path: tuple, param: dict, value: Any) -> str | None:
        if isinstance(value, Choice):
            for i, v in enumerate(value.choice):
                err = check_value(param, v)
                if err:
                    return f"{err}; got {v!r} in choice[{i}]"
            return None
        if isinstance(value, IntRange):
            for end, v in (("low", value.low), ("high", value.high)):
                err = check_value(param, v)
                if err:
                    return f"{err}; got {v} as the range's {end} end"
            return None
        if isinstance(value, FloatRange):
            if takes_int_only(param):
                return "takes integers, but is searched with a float range: use {int: [...]}"
            for end, v in (("low", value.low), ("high", value.high)):
                err = check_value(param, float(v))
                if err:
                    return f"{err}; got {v} as the range's {end} end"
            return None
        err = check_value(param, value)
        return f"{err}; got {self.show(path, value)}" if err else None

    @staticmethod
    def _culprit(path: tuple, param: dict, value: Any) -> tuple:
        """The path of the offending item of a choice or end of a range (its own line and column)."""
        if isinstance(value, Choice):
            for i, v in enumerate(value.choice):
                if check_value(param, v):
                    return path + ("choice", i)
        if isinstance(value, IntRange):
            for i, v in enumerate((value.low, value.high)):
                if check_value(param, v):
                    return path + ("int", i)
        return path

    @staticmethod
    def _other_task_owner(name: str, targets: list[str], pname: str) -> str | None:
        """The class of the other task's variant that takes ``pname`` (class_weight on a regressor)."""
        classes = catalog.estimator_classes(name)
        for target in classes.values():
            if target in targets:
                continue
            info = catalog.estimator_info(target)
            if info and pname in info["params"]:
                return target.rpartition(":")[2]
        return None

    @staticmethod
    def _task_word(targets: list[str]) -> str:
        infos = [catalog.estimator_info(t) for t in targets]
        tasks = {i["task"] for i in infos if i}
        return tasks.pop() if len(tasks) == 1 else "this one"

    def _param_hint(self, param: dict, value: Any, path: tuple = ()) -> str | None:
        if isinstance(value, Choice):
            for v in value.choice:
                if check_value(param, v):
                    return self._param_hint(param, v)
            return None
        accepts_none = check_value(param, None) is None
        if isinstance(value, str) or not is_space(value):
            hint = value_hint(value, accepts_none=accepts_none, numeric=True)
            if hint and isinstance(value, str) and hint.startswith("remove the quotes"):
                number = float(value) if "." in value or "e" in value.lower() else int(value)
                if check_value(param, number) is not None:
                    hint = None
            if hint:
                return hint
        opts = options_of(param)
        if opts and isinstance(value, str):
            hint = suggestion_hint(value, opts)
            return hint or None
        return None

    def check_metric(self, task: str | None) -> None:
        if self.spec.search is None:
            return
        metrics = self.spec.search.metrics()
        for i, m in enumerate(metrics):
            path = ("search", "metric") + ((i,) if isinstance(self.spec.search.metric, list) else ())
            mt = R.metrics.get(m).meta.get("task")
            if task and mt in ("classification", "regression") and mt != task:
                self.error(
                    path,
                    f"'{m}' is a {mt} metric but the task is {task}",
                    "for regression: r2, rmse, mae; for classification: accuracy, roc_auc, f1, log_loss",
                )

    def check_select(self, task: str | None) -> None:
        for i, step in enumerate(self.spec.select or ()):
            kind = next(iter(type(step).model_fields))
            opts = getattr(step, kind)
            path = ("select", i, kind)
            chosen = getattr(opts, "estimator", None)
            # a fixed estimator, or each of a searched one's choices
            estimators = (
                [(path + ("estimator", "choice", j), e) for j, e in enumerate(chosen.choice)]
                if isinstance(chosen, Choice)
                else [(path + ("estimator",), chosen)]
            )
            for est_path, est in estimators:
                self._check_select_estimator(kind, est_path, est, task)
            if kind == "univariate" and task:
                score = opts.score
                if (score == "f_regression" and task == "classification") or (score in ("f_classif", "chi2") and task == "regression"):
                    self.error(path + ("score",), f"'{score}' does not fit a {task} task", "use score: auto")
            if kind == "variance":
                self._check_bounds(path + ("threshold",), opts.threshold, 0, inclusive=True, what="a variance: 0 drops constant features")
            if kind == "sequential" and opts.cv == 1:
                self.error(path + ("cv",), "cv: 1 is not cross-validation", "0 scores each subset on the training data; 2 or more are folds")
            if kind == "univariate":
                self._check_bounds(path + ("k",), opts.k, 1, inclusive=True, what="the number of features kept; `all` keeps every one")
                self._check_bounds(path + ("percentile",), opts.percentile, 0, inclusive=False, high=100, what="a percentage of the features: 10 keeps a tenth")
            if kind == "rfe":
                self._check_bounds(path + ("n_features",), opts.n_features, 0, inclusive=False, what="a count of features (5) or a share (0.5)")
                self._check_share_or_count(path + ("n_features",), opts.n_features)
            if kind == "importance":
                self._check_bounds(path + ("max_features",), opts.max_features, 1, inclusive=True)
                th = opts.threshold
                for p, v in [(path + ("threshold", "choice", j), x) for j, x in enumerate(th.choice)] if isinstance(th, Choice) else [(path + ("threshold",), th)]:
                    if isinstance(v, str) and not _THRESHOLD.match(v.strip()):
                        self.error(p, f"{self.show(p, v)} is not an importance threshold", "a number, mean, median, or a multiple such as 1.5*mean")
            if kind == "sequential":
                kf = opts.k_features
                for p, v in [(path + ("k_features", "choice", j), x) for j, x in enumerate(kf.choice)] if isinstance(kf, Choice) else [(path + ("k_features",), kf)]:
                    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v) and v[0] > v[1]:
                        self.error(p, f"a [min, max] range needs min <= max, got [{v[0]}, {v[1]}]", f"write [{v[1]}, {v[0]}]")
            if kind == "univariate" and opts.score == "chi2" and self.spec.preprocess is not None:
                scale = self.spec.preprocess.numeric.scale
                scales = scale.choice if isinstance(scale, Choice) else [scale]
                if any(s in ("standard", "robust", "power", "quantile") for s in scales):
                    self.warn(path + ("score",), "chi2 needs non-negative features, and this scaling makes negative ones", "use preprocess.numeric.scale: minmax")

    def _check_select_estimator(self, kind: str, path: tuple, est: Any, task: str | None) -> None:
        """A selection step's ``estimator`` (one value: fixed, or a searched choice)."""
        if not isinstance(est, str) or est == "auto" or est not in R.estimators:
            return
        classes = catalog.estimator_classes(est)
        if task and task not in classes:
            self.error(path, f"'{est}' has no {task} variant", _task_hint(est, task))
            return
        if kind in ("importance", "rfe"):
            targets = [classes[task]] if task in classes else list(classes.values())
            if targets and all(t.rpartition(":")[2] in NO_IMPORTANCES for t in targets):
                cls = "/".join(t.rpartition(":")[2] for t in targets)
                self.error(
                    path,
                    f"'{est}' ({cls}) has neither feature importances nor coefficients to rank features by",
                    "use random_forest, extra_trees, decision_tree, logistic_regression or ridge",
                )

    def _check_share_or_count(self, path: tuple, value: Any) -> None:
        """A share is at most 1, a count is whole: 1.5 is neither."""
        if isinstance(value, Choice):
            items = [(path + ("choice", i), v) for i, v in enumerate(value.choice)]
        elif isinstance(value, FloatRange):
            items = [(path + ("float", 0), value.low), (path + ("float", 1), value.high)]
        else:
            items = [(path, value)]
        for p, v in items:
            if isinstance(v, float) and v > 1:
                hint = f"write the count without a decimal point: {int(v)}" if v.is_integer() else f"a share such as 0.5, or a count such as {math.floor(v)}"
                self.error(p, f"must be a share (at most 1) or a whole count, got {v!r}", hint)
                return

    def _check_bounds(self, path: tuple, value: Any, low: float, *, inclusive: bool, high: float | None = None, what: str = "") -> None:
        """Every value ``value`` can take (fixed, each choice, both range ends) within the bounds."""
        if value is None or isinstance(value, (str, bool)):
            return
        if isinstance(value, Choice):
            items = [(path + ("choice", i), v) for i, v in enumerate(value.choice)]
        elif isinstance(value, (IntRange, FloatRange)):
            key = "int" if isinstance(value, IntRange) else "float"
            items = [(path + (key, 0), value.low), (path + (key, 1), value.high)]
        else:
            items = [(path, value)]
        op = ">=" if inclusive else ">"
        for p, v in items:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            if (v < low if inclusive else v <= low) or (high is not None and v > high):
                rng = f"{op} {low:g}" + (f" and <= {high:g}" if high is not None else "")
                self.error(p, f"must be {rng}, got {v:g}", what or None)
                return

    def check_columns(self) -> None:
        """Column names the spec gives: not empty, and the target kept."""
        data = self.spec.data
        if data is None:
            return
        named = [(("data", "target"), data.target)] + [(("data", "drop", i), c) for i, c in enumerate(data.drop)]
        named += [(("data", "split", "column"), data.split.column)] if data.split.column is not None else []
        for path, col in named:
            if isinstance(col, str) and not col.strip():
                raw = self.smap.raw.get(path)
                target = path == ("data", "target")
                hint = "name the column to predict, e.g. target: species" if target else "name a column of the table"
                hint = f"{raw} gave an empty string: set the variable, or give a non-empty default" if raw else hint
                self.error(path, "the target is empty" if target else "the column name is empty", hint)
        for col, kind in data.types.items():
            if not col.strip():
                self.error(("data", "types", col), "the column name is empty", "name a column of the table", key=True)
            elif col == data.target and kind == "ignore":
                self.error(("data", "types", col), "the target cannot be ignored", "remove it from data.types")
            elif col == data.target:
                # the run types the features only: the task says how the target is read
                task = {"numeric": "regression", "categorical": "classification", "boolean": "classification"}.get(kind)
                self.warn(
                    ("data", "types", col),
                    f"data.types does not apply to the target ('{col}'): it is read by data.task",
                    f"remove it and set data.task: {task}" if task and data.task != task else "remove it from data.types",
                )

    def check_split(self, task: str | None) -> None:
        if self.spec.data is None:
            return
        if self.spec.data.positive is not None and self.spec.data.task == "regression":
            self.error(("data", "positive"), "a regression target has no positive class", "remove data.positive (it is for binary classification)")
        split = self.spec.data.split
        if split.stratify and task == "regression":
            self.error(("data", "split", "stratify"), "a regression target cannot be stratified", "remove stratify")
        if split.column and split.column == self.spec.data.target:
            self.error(("data", "split", "column"), "the split column is the target", "name a group or time column")
        if split.column and split.column in self.spec.data.drop:
            self.warn(("data", "split", "column"), f"'{split.column}' is dropped from the features; it is still used to split")

    def check_preprocess(self) -> None:
        spec = self.spec
        if spec.preprocess is None or spec.data is None:
            return
        outliers = [(("preprocess", "numeric", "outliers"), spec.preprocess.numeric.outliers)]
        outliers += [(("preprocess", "columns", c, "outliers"), ov.outliers) for c, ov in spec.preprocess.columns.items()]
        for path, out in outliers:
            if hasattr(out, "factor"):
                self._check_bounds(path + ("factor",), out.factor, 0, inclusive=False, what="the IQR multiplier (1.5) or the z-score threshold (3)")
        imputers = [(("preprocess", "categorical", "impute"), spec.preprocess.categorical.impute)]
        imputers += [(("preprocess", "columns", c, "impute"), ov.impute) for c, ov in spec.preprocess.columns.items() if ov.type in ("categorical", "text")]
        for path, value in imputers:
            items = [(path + ("choice", i), v) for i, v in enumerate(value.choice)] if isinstance(value, Choice) else [(path, value)]
            for p, v in items:
                if v in NUMERIC_ONLY_IMPUTERS:
                    self.error(p, f"'{v}' needs numbers and cannot fill categorical columns", "use most_frequent, constant, drop or none")
        for col, ov in spec.preprocess.columns.items():
            path = ("preprocess", "columns", col)
            if col == spec.data.target:
                self.error(path, "the target cannot be preprocessed", "remove it from preprocess.columns", key=True)
            elif col in spec.data.drop:
                self.warn(path, f"'{col}' is in data.drop, so this override does nothing")
            if ov.type in ("numeric",) and ov.encode is not None:
                self.error(path + ("encode",), "a numeric column has no categories to encode", "remove encode, or set type: categorical")
            if ov.type in ("categorical", "text") and ov.scale is not None:
                self.error(path + ("scale",), "a categorical column cannot be scaled", "remove scale, or set type: numeric")
            if ov.type in COLUMN_OPTIONS:
                reported = {"numeric": {"encode"}, "categorical": {"scale"}, "text": {"scale"}}.get(ov.type, set())
                for field in sorted(ov.model_fields_set - {"type", "drop"} - COLUMN_OPTIONS[ov.type] - reported):
                    if getattr(ov, field) is not None:
                        self.error(path + (field,), f"'{col}' is a {ov.type} column, which has no {field}", COLUMN_HINTS.get(field))
                if ov.type != "categorical" and isinstance(ov.fill_value, str) and ov.impute == "constant" and "fill_value" in COLUMN_OPTIONS[ov.type]:
                    try:
                        float(ov.fill_value)
                    except ValueError:
                        self.error(
                            path + ("fill_value",),
                            f"{self.show(path + ('fill_value',), ov.fill_value)} is not a number, and '{col}' is a {ov.type} column",
                            "give a number, or set `type: categorical`",
                        )

    def check_search(self) -> None:
        search = self.spec.search
        if search is None:
            return
        if search.strategy == "grid":
            discrete = True
            for path, value in self.spaces():
                if not is_discrete(value):
                    discrete = False
                    self.error(
                        path,
                        "a grid search needs discrete values, and this float range has no `step`",
                        f"add a step (e.g. {{float: [{value.low}, {value.high}], step: ...}}) or use {{choice: [...]}}",
                    )
            for key, model in (self.spec.models or {}).items():
                zoo_space = zoo.default_params(model.estimator or key) if model.params is None else None
                continuous = [p for p, v in (zoo_space or {}).items() if isinstance(v, dict) and "float" in v and v.get("step") is None]
                if continuous:
                    discrete = False
                    self.error(
                        ("models", key),
                        f"a grid search needs discrete values, and the default space of '{key}' has continuous ranges ({', '.join(continuous)})",
                        f"give {key} params with {{choice: [...]}} (params: {{}} for its defaults), or use strategy: random / optuna",
                        key=True,
                    )
            if self.spec.models is None and "models" not in self.failed:
                self.error(
                    ("search", "strategy"),
                    "a grid search needs `models` with discrete params (the default zoo has continuous ranges)",
                    "list models with {choice: [...]} params, or use strategy: random / optuna",
                )
            elif discrete and self.spec.models and search.budget.trials is None and search.budget.time is None:
                size = self.grid_size()
                if size > GRID_WARN:
                    self.warn(
                        ("search", "strategy"),
                        f"the grid has {size:,} configurations and the search has no budget: it would run every one",
                        "add search.budget (trials: 200, time: 1h), use coarser ranges (a step, a choice), or strategy: random / optuna",
                    )
        if search.strategy == "genetic":
            self.check_generations(search)
        if search.strategy == "optuna" and search.options.sampler == "cmaes" and len(search.metrics()) > 1:
            self.error(("search", "options", "sampler"), "the cmaes sampler optimises one objective", "use sampler: nsga2 or tpe for several metrics")
        data = self.spec.data
        if data is not None and data.split.by == "time" and search.cv.repeats > 1:
            self.error(
                ("search", "cv", "repeats"),
                "search.cv.repeats needs folds that can be reshuffled, and a time split has one order",
                "remove search.cv.repeats (or use data.split.by: random)",
            )
        if search.strategy == "optuna" and len(search.metrics()) > 1 and search.options.pruner != "none":
            self.warn(("search", "options", "pruner"), "Optuna cannot prune multi-objective studies; pruning is off")
        if search.strategy == "hyperopt" and len(search.metrics()) > 1:
            self.warn(
                ("search", "metric"),
                f"Hyperopt minimises one loss: the first metric ({search.metrics()[0]}) steers the search; the others are recorded and the Pareto front is reported",
                "use strategy: optuna (NSGA-II) to search for the front",
            )
        if search.budget.trials is None and search.budget.time is None and search.strategy not in ("grid",):
            pass  # default budget applies; `mlx plan` shows it

    def check_generations(self, search) -> None:
        """A trial budget that ends inside generation 0: no individual is ever bred (a random search)."""
        from ..planner import DEFAULT_TRIALS

        budget, population = search.budget, search.options.population
        trials = budget.trials if budget.trials is not None else (None if budget.time is not None else DEFAULT_TRIALS)
        if trials is None or trials > population:
            return
        if budget.trials is not None:
            path = ("search", "budget", "trials")
        elif "population" in search.options.model_fields_set:
            path = ("search", "options", "population")
        else:
            path = ("search", "strategy")
        given = f"{trials} trials" + ("" if budget.trials is not None else " (the default budget)")
        hint = f"raise search.budget.trials to {population * 2} or more (two generations)"
        smaller = trials // 3
        if smaller >= max(2, search.options.tournament, search.options.elite + 1):
            hint += f", or lower search.options.population to {smaller} (three generations)"
        self.warn(
            path,
            f"{given} {'are' if trials < population else 'make'} {'fewer than ' if trials < population else ''}one generation of {population}"
            ": the genetic search ends in generation 0, never evolves, and is a random search",
            hint,
        )

    def grid_size(self) -> int:
        """Configurations of a discrete space: the models' own grids added up, times the shared preprocessing/selection grid."""
        shared = 1
        for _, value in itertools.chain(walk_spaces(self.spec.preprocess, ("preprocess",)), *(walk_spaces(st, ("select", i)) for i, st in enumerate(self.spec.select or ()))):
            shared *= value.size() or 1
        models = 0
        for model in self.spec.models.values():
            own = 1
            for value in (model.params or {}).values():
                if is_space(value):
                    own *= value.size() or 1
            models += own
        return models * shared

    def spaces(self) -> Iterator[tuple[tuple, Any]]:
        """Every searched value in the spec, with its path."""
        spec = self.spec
        for key, model in (spec.models or {}).items():
            for pname, value in (model.params or {}).items():
                if is_space(value):
                    yield ("models", key, "params", pname), value
        yield from walk_spaces(spec.preprocess, ("preprocess",))
        for i, step in enumerate(spec.select or ()):
            yield from walk_spaces(step, ("select", i))

    def check_environment(self) -> None:
        spec = self.spec
        s = spec.search
        if s is not None and needs_torch(s):
            if find_spec("torch") is None:
                self.warn(
                    ("search", "strategy"),
                    "the Gaussian-process sampler needs PyTorch, which is not installed",
                    TORCH_PIP,
                )
        if s is not None and s.strategy == "hyperopt" and find_spec("hyperopt") is None:
            # an optional extra: nothing else can run this strategy, so the spec cannot run here
            self.error(("search", "strategy"), "the hyperopt strategy needs the hyperopt package, which is not installed", HYPEROPT_PIP)
        if s is not None and s.strategy == "optuna" and s.options.sampler == "cmaes" and find_spec("cmaes") is None:
            self.warn(("search", "options", "sampler"), "the cmaes sampler needs the cmaes package, which is not installed", "pip install cmaes")
        for name, src in (spec.sources or {}).items():
            kind = src.kind
            if kind == "mongo" and find_spec("pymongo") is None:
                self.warn(("sources", name), "reading MongoDB needs pymongo", 'pip install "automl-yaml[mongo]"')
            if kind == "sql":
                scheme = src.url.split(":", 1)[0].split("+")[0]
                needs = {"postgresql": "psycopg", "postgres": "psycopg", "mysql": "pymysql"}.get(scheme)
                if needs and find_spec(needs) is None and find_spec("psycopg2") is None:
                    self.warn(("sources", name, "url"), f"reading {scheme} needs {needs}", 'pip install "automl-yaml[sql]"')
            if kind == "file" and src.path.startswith(("s3://", "s3a://")) and find_spec("s3fs") is None:
                self.warn(("sources", name, "path"), "reading s3:// needs s3fs", 'pip install "automl-yaml[s3]"')
        if spec.execution is not None and spec.execution.backend == "dask":
            # reserved in the language, not run yet: refusing is better than
            # silently running on local processes
            self.error(
                ("execution", "backend"),
                "the dask backend is not available in this version; trials run on local processes",
                "remove execution.backend (local is the default) and use execution.n_jobs",
            )
        cpus = os.cpu_count() or 1
        if spec.execution is not None and spec.execution.n_jobs > cpus:
            self.warn(
                ("execution", "n_jobs"),
                f"n_jobs: {spec.execution.n_jobs} starts that many worker processes (each with its own copy of the data), and this machine has {cpus} CPUs",
                "n_jobs: -1 starts one per CPU",
            )
        if spec.tracking is not None and spec.tracking.register_as and not spec.tracking.enabled:
            self.warn(("tracking", "register"), "tracking is off, so nothing is registered")
        self.check_tracking()

    def check_tracking(self) -> None:
        """What MLflow refuses: at the start of the run (the store) or at its end (the registration)."""
        t = self.spec.tracking
        if t is None or not t.enabled:
            return
        if t.uri and not self.smap.is_interpolated(("tracking", "uri")):
            path = ("tracking", "uri")
            scheme = urlsplit(t.uri).scheme.lower()
            if len(scheme) > 1 and scheme.split("+")[0] not in _TRACKING_SCHEMES:  # C:/mlruns is a path
                if re.fullmatch(r"[A-Za-z0-9.\-]+:\d+(/.*)?", t.uri):
                    hint = f"a server is reached over HTTP: http://{t.uri}"
                else:
                    hint = suggestion_hint(scheme, list(_TRACKING_SCHEMES[1:]), what="URI scheme")
                self.error(path, f"MLflow cannot track to {self.show(path, t.uri)}: unknown URI scheme '{scheme}'", hint)
            elif scheme == "sqlite" and not t.uri.lower().startswith("sqlite:///"):
                self.error(path, f"{self.show(path, t.uri)} is not an SQLite URL", "sqlite:///mlflow.db (a file beside the spec) or sqlite:////abs/path/mlflow.db: three slashes, then the path")
            elif scheme in ("", "file") and t.uri.strip() not in _TRACKING_SCHEMES and os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").strip().lower() not in ("true", "1"):
                self.error(
                    path,
                    "MLflow refuses a folder as its store (its file store is in maintenance mode)",
                    "track to sqlite:///mlflow.db (the default) or a server, or export MLFLOW_ALLOW_FILE_STORE=true",
                )
        name = t.register_as
        if name is None:
            return
        path = ("tracking", "register")
        if not name.strip():
            self.error(path, "the registered model name is empty", "name the model, e.g. register: penguins-species; or remove tracking.register")
        elif "/" in name or ":" in name:
            self.error(path, f"MLflow model names cannot contain '/' or ':', got {self.show(path, name)}", "use letters, digits, '-', '_' and '.'")
        if not t.log_model:
            self.error(("tracking", "log_model"), "tracking.register needs the model logged: log_model is false", "remove log_model: false, or remove tracking.register")


def _logistic_error(penalty: Any, l1_ratio: Any, C: Any, solver: Any, dual: Any) -> str | None:
    """Why scikit-learn's ``LogisticRegression.fit`` refuses these values (its ``_check_solver``), or None."""
    if penalty == "deprecated":  # scikit-learn >= 1.8: the penalty follows l1_ratio and C
        if not isinstance(l1_ratio, (int, float)) or isinstance(l1_ratio, bool) or l1_ratio == 0:
            penalty = "l2"
        else:
            penalty = "l1" if l1_ratio == 1 else "elasticnet"
        if C == float("inf"):
            penalty = None
    if not isinstance(solver, str) or not isinstance(penalty, (str, type(None))):
        return None
    shown = "no penalty" if penalty is None else f"the {penalty} penalty"
    if solver not in ("liblinear", "saga") and penalty not in ("l2", None):
        return f"solver '{solver}' supports only the l2 penalty or none, got {shown}"
    if solver != "liblinear" and dual is True:
        return f"solver '{solver}' supports only dual: false"
    if penalty == "elasticnet" and solver != "saga":
        return f"only solver 'saga' supports the elasticnet penalty, got solver '{solver}'"
    if solver == "liblinear" and penalty is None:
        return "solver 'liblinear' needs a penalty (l1 or l2)"
    if solver == "liblinear" and penalty == "l1" and dual is True:
        return "the l1 penalty supports only dual: false"
    if penalty == "elasticnet" and l1_ratio is None:
        return "the elasticnet penalty needs l1_ratio"
    return None


def _task_hint(name: str, task: str) -> str:
    fam = catalog.family_name(name) if name[:1].isupper() else name
    if fam in R.estimators:
        classes = catalog.estimator_classes(fam)
        if task in classes:
            return f"use '{fam}', which picks the {task} variant ({classes[task].rpartition(':')[2]})"
    return "for classification: logistic_regression, random_forest, ...; for regression: ridge, random_forest, ..."


def check(spec: Spec, smap: SourceMap, *, base_dir: Path | None = None) -> list[Problem]:
    """Every semantic problem of ``spec`` (errors and warnings); ``base_dir``: where relative source paths are."""
    catalog.ensure_estimators()
    return Checker(spec, smap, base_dir=base_dir).run()


def check_partial(data: dict, smap: SourceMap, structural: list[Problem], *, base_dir: Path | None = None) -> list[Problem]:
    """Semantic problems of the sections that are structurally valid.

    Used when the whole spec failed structural validation, so that a typo in one
    section does not hide an unknown hyperparameter in another: each top-level
    section is validated on its own, and invalid ones are left out (None).
    """
    from types import SimpleNamespace

    from pydantic import TypeAdapter, ValidationError

    catalog.ensure_estimators()
    view: dict[str, Any] = {}
    failed = set()
    for name, field in Spec.model_fields.items():
        key = field.alias or name
        if key not in data:
            view[name] = None if field.is_required() else field.get_default(call_default_factory=True)
            continue
        try:
            tp = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            view[name] = TypeAdapter(tp).validate_python(data[key])
        except (ValidationError, Exception):
            view[name] = None
            failed.add(key)
    found = Checker(SimpleNamespace(**view), smap, frozenset(failed), base_dir=base_dir).run()
    # a semantic problem at or under a path that already has a structural one is noise
    seen = {p.path for p in structural}
    return [p for p in found if not any(p.path == s or p.path.startswith(s + ".") for s in seen)]


def needs_torch(search) -> bool:
    """The search uses Optuna's Gaussian-process sampler, which needs PyTorch."""
    return search.strategy == "bayesian" or (search.strategy == "optuna" and search.options.sampler == "gp")
