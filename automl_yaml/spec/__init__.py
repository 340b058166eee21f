"""The spec language: load, check and describe a spec.

This package imports pydantic and yaml only (``mlx validate`` stays fast);
semantic checks read estimator metadata from JSON instead of importing
scikit-learn.

>>> from automl_yaml.spec import load_spec
>>> loaded = load_spec({"sources": {"d": {"kind": "sample", "name": "iris"}}, "data": {"target": "target"}})
>>> loaded.spec.search.strategy
'optuna'
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import secrets
from ..errors import Location, Problem, SpecError, UsageError, did_you_mean
from .env import apply_overrides, interpolate, shell_style_variables
from .loader import MAX_BYTES, TOO_BIG_HINT, SourceMap, dotted, load_yaml

__all__ = ["LoadedSpec", "ValidationReport", "load_spec", "validate", "json_schema", "redact", "dotted", "missing_frame"]


@dataclasses.dataclass
class LoadedSpec:
    """A valid spec and everything known about where it came from.

    Attributes:
        spec: The validated model (``${VAR}`` resolved: never print or log it whole).
        path: The spec file, or None for a spec given as a mapping.
        base_dir: Relative paths in the spec are relative to this folder.
        smap: Positions of every value (for located runtime errors).
        raw: The document after ``--set`` overrides and before interpolation:
            safe to show, log and save (see :meth:`redacted`).
        warnings: Problems of severity "warning".
        frames: The DataFrames of the spec's ``kind: frame`` sources, by source
            name: copies of those given (``frames=`` or in a spec mapping),
            never shown, saved or logged (``raw`` says ``kind: frame``).
    """

    spec: Any
    path: Path | None
    base_dir: Path
    smap: SourceMap
    raw: Any
    warnings: list[Problem]
    frames: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def output_dir(self) -> Path:
        out = self.spec.output or f"runs/{self.spec.name}"
        p = Path(out).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def resolve(self, relative: str) -> str:
        """A path from the spec, made absolute against the spec's folder (URLs unchanged)."""
        if "://" in relative:
            return relative
        p = Path(relative).expanduser()
        return str(p if p.is_absolute() else self.base_dir / p)

    def redacted(self) -> Any:
        """The spec as written (``${VAR}`` unresolved), with any literal secret masked."""
        return redact(self.raw)

    def spec_hash(self) -> str:
        """A short hash of the redacted, normalised spec: equal specs, equal hashes."""
        text = json.dumps(self.redacted(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def locate(self, *path) -> Location:
        return self.smap.locate(tuple(path))

    def with_frames(self, frames: Mapping[str, Any] | None) -> LoadedSpec:
        """This spec with more DataFrames for its ``kind: frame`` sources (checked and copied)."""
        if not frames:
            return self
        return dataclasses.replace(self, frames={**self.frames, **_checked_frames(self.spec, frames)})

    def require_frames(self) -> None:
        """Raise a :class:`UsageError` if a ``kind: frame`` source the table is built from has no DataFrame."""
        spec = self.spec
        for name in [spec.main_source] + [j.source for j in spec.data.join]:
            if getattr(spec.sources.get(name), "kind", None) == "frame" and name not in self.frames:
                raise missing_frame(self, name)

    def __repr__(self) -> str:
        # never the resolved spec: ${VAR} values (passwords) are in it
        return f"LoadedSpec(name={self.spec.name!r}, path={str(self.path) if self.path else None!r}, warnings={len(self.warnings)})"


@dataclasses.dataclass
class ValidationReport:
    """What :func:`validate` found: problems (errors and warnings) and the spec if valid."""

    file: str
    problems: list[Problem]
    loaded: LoadedSpec | None

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def __repr__(self) -> str:
        return f"ValidationReport(file={self.file!r}, ok={self.ok}, problems={[p.render() for p in self.problems]!r})"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


# the password runs to the last "@" of the authority: u:AA@BB@host has the password AA@BB (not AA, leaving @BB shown)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^/\s]+)(?P<at>@)")
_SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)$")
# a query parameter that carries a secret: ?token=..., &sig=... (a SAS URL), X-Amz-Signature=..., ?api_key=...
_QUERY_SECRET = re.compile(
    r"(?i)(?P<head>[?&;][A-Za-z0-9_.\-]*(?:password|passwd|secret|token|sig|signature|credential|api[_-]?key|access[_-]?key|apikey)=)"
    r"(?P<value>[^&#\s'\"]+)"
)


def mask_url(text: str) -> str:
    """``postgresql://u:pw@host/db`` -> ``postgresql://u:***@host/db``; ``?token=abc`` -> ``?token=***``.

    Every secret taken from the environment is masked first, exactly (:func:`automl_yaml.secrets.mask`).
    """
    text = secrets.mask(text)

    def sub(m: re.Match) -> str:
        if m.group("pw").startswith("${"):
            return m.group(0)  # a reference names the secret, it is not one
        return m.group("head") + "***" + m.group("at")

    def sub_query(m: re.Match) -> str:
        return m.group(0) if m.group("value").startswith("${") else m.group("head") + "***"

    text = _URL_PASSWORD.sub(sub, text)
    return _QUERY_SECRET.sub(sub_query, text) if "=" in text else text


def redact(data: Any) -> Any:
    """A copy of ``data`` with URL passwords and secret-looking keys masked.

    ``${VAR}`` references are kept as they are: they name a secret, they are not one.
    """
    if isinstance(data, str):
        return mask_url(data)
    if isinstance(data, list):
        return [redact(v) for v in data]
    if isinstance(data, dict):
        return {k: redact_field(k, v) for k, v in data.items()}
    return data


def redact_field(key: Any, value: Any) -> Any:
    """``value`` as shown under ``key``: ``"***"`` for a literal under a secret-looking key, else :func:`redact`."""
    if isinstance(key, str) and _SECRET_KEY.search(key) and isinstance(value, (str, int)) and not (isinstance(value, str) and value.startswith("${")):
        return "***"
    return redact(value)


def _is_frame(value: Any) -> bool:
    """A pandas DataFrame (pandas is never imported for this: without it, there is none)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def _inline_frames(data: dict) -> tuple[dict, dict[str, Any]]:
    """A spec mapping's DataFrames written in place of a source: each becomes ``{kind: frame}``."""
    sources = data.get("sources")
    if not isinstance(sources, Mapping):
        return data, {}
    found = {name: value for name, value in sources.items() if _is_frame(value)}
    if not found:
        return data, {}
    data = dict(data)
    data["sources"] = {name: ({"kind": "frame"} if name in found else value) for name, value in sources.items()}
    return data, found


def _frames_mapping(frames: Any) -> Mapping[str, Any]:
    if frames is None:
        return {}
    if not isinstance(frames, Mapping):
        raise UsageError(
            f"frames= maps source names to DataFrames, not a {type(frames).__name__}",
            hint='for example frames={"train": df} with sources: {train: {kind: frame}} in the spec',
        )
    return frames


def _checked_frames(spec: Any, frames: Mapping[str, Any]) -> dict[str, Any]:
    """Copies of the DataFrames given for ``kind: frame`` sources; a :class:`UsageError` for anything else."""
    from ..errors import did_you_mean

    _frames_mapping(frames)
    out: dict[str, Any] = {}
    for name, frame in frames.items():
        source = spec.sources.get(name)
        if source is None:
            close = did_you_mean(str(name), [str(n) for n in spec.sources])
            hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?" if close else f"declare it in the spec: sources: {{{name}: {{kind: frame}}}}"
            raise UsageError(f"frames: the spec has no source '{name}'", hint=hint)
        if source.kind != "frame":
            raise UsageError(
                f"frames: source '{name}' is a `kind: {source.kind}` source; only a `kind: frame` source takes a DataFrame",
                hint=f"write sources: {{{name}: {{kind: frame}}}} in the spec, or leave '{name}' out of frames=",
            )
        if not _is_frame(frame):
            what = f"{type(frame).__module__}.{type(frame).__name__}" if type(frame).__module__ != "builtins" else type(frame).__name__
            raise UsageError(
                f"frames['{name}']: expected a pandas DataFrame, got a {what}",
                hint="make one of the features and the target: pd.DataFrame(X).assign(target=y) (polars: df.to_pandas())",
            )
        out[name] = frame.copy()  # a later change by the caller does not reach the run
    return out


def missing_frame(loaded: LoadedSpec, name: str) -> UsageError:
    """The error for a ``kind: frame`` source without a DataFrame (``mlx run``, or ``run()`` without ``frames=``)."""
    message = f"sources.{name}: no DataFrame was given for this `kind: frame` source"
    if loaded.path is None:
        hint = f'give it: automl_yaml.run(spec, frames={{"{name}": df}}), or in the spec mapping: {{"sources": {{"{name}": df}}, ...}}'
        return UsageError(message, hint=hint)
    hint = (
        f'a frame source is given from Python: automl_yaml.run("{loaded.path}", frames={{"{name}": df}}); '
        "the command line reads only sources it can open (kind: file, sql, mongo, sample)"
    )
    return UsageError(f"{loaded.locate('sources', name)}: {message}", hint=hint)


def _missing_spec_hint(path: Path) -> str:
    """``did you mean examples/spec.yaml?`` for ``spec.yml``, ``spce.yaml``...; else what to check."""
    folder = path.parent
    try:
        names = [p.name for p in folder.iterdir() if p.is_file()]
    except OSError:
        return f"no folder {folder}: check the path of the spec"
    specs = [n for n in names if n.endswith((".yaml", ".yml"))]
    stems = {Path(n).stem: n for n in specs}
    close = [stems[c] for c in did_you_mean(path.stem, stems)]
    if close:
        return f"did you mean {folder / close[0] if str(path.parent) not in ('', '.') else close[0]}?"
    if specs and len(specs) <= 5:
        return f"specs in {folder}: {', '.join(sorted(specs))}"
    return "check the path of the spec"


#: What a path that is not a regular file is (``stat``'s file types), for the message.
_NOT_REGULAR = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _read(path: Path) -> bytes:
    """The spec's bytes; a file that cannot be read is a :class:`SpecError` located at the file.

    A problem, not a bare usage error: ``mlx validate a.yaml missing.yaml`` still
    reports ``a.yaml``, and ``--format json`` / ``github`` still print what they promise.
    Only a regular file is read, and at most :data:`~.loader.MAX_BYTES` + 1 of
    its bytes: ``/dev/zero`` was read until memory ran out, a 3 GB file was
    read whole before being refused, and a FIFO blocked for ever (opened
    without waiting for a writer here, then refused).
    """
    where = Location(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO opens at once, even with no writer
    except FileNotFoundError:
        raise SpecError.single("no such file", location=where, hint=_missing_spec_hint(path)) from None
    except IsADirectoryError:  # where a folder cannot be opened (Linux opens it: see S_ISDIR below)
        raise _folder_problem(path, where) from None
    except OSError as exc:
        raise SpecError.single(f"cannot read: {exc.strerror}", location=where) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _folder_problem(path, where)
        if not stat.S_ISREG(st.st_mode):
            what = next((name for test, name in _NOT_REGULAR if test(st.st_mode)), "not a regular file")
            raise SpecError.single(
                f"is {what}, not a spec file",
                location=where,
                hint="give the path of a .yaml file (a spec is read from a regular file: save it to one first)",
            )
        if st.st_size > MAX_BYTES:
            raise SpecError.single(f"file is {st.st_size:,} bytes; a spec may be at most {MAX_BYTES:,}", location=where, hint=TOO_BIG_HINT)
        with open(fd, "rb", closefd=False) as f:
            data = f.read(MAX_BYTES + 1)  # the file may have grown since the stat
    except OSError as exc:
        raise SpecError.single(f"cannot read: {exc.strerror}", location=where) from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise SpecError.single(f"file is more than {MAX_BYTES:,} bytes; a spec may be at most {MAX_BYTES:,}", location=where, hint=TOO_BIG_HINT)
    return data


def _folder_problem(path: Path, where: Location) -> SpecError:
    candidates = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
    hint = f"did you mean {candidates[0]}?" if candidates else "give the path of a .yaml file"
    return SpecError.single("is a folder, not a spec file", location=where, hint=hint)


def _default_name(path: Path | None) -> str:
    stem = path.stem if path else "spec"
    if stem in ("spec", "automl", "mlx") and path is not None:
        stem = path.resolve().parent.name or stem
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", stem).strip("-.") or "spec"
    if not re.match(r"[A-Za-z_]", name):
        name = "spec-" + name
    return name[:100]


def load_spec(
    source: str | Path | Mapping,
    *,
    overrides: Iterable[str] | Mapping[str, Any] | None = (),
    environ: Mapping[str, str] | None = None,
    base_dir: str | Path | None = None,
    semantic: bool = True,
    frames: Mapping[str, Any] | None = None,
) -> LoadedSpec:
    """Load, interpolate and validate a spec.

    Args:
        source: A path to a YAML file, or the spec as a mapping; in a mapping,
            a pandas DataFrame in place of a source is ``{kind: frame}`` with
            that frame (``{"sources": {"train": df}, ...}``).
        overrides: ``"a.b.c=value"`` strings, as ``mlx run --set`` takes them, or a mapping
            ``{"a.b.c": value}`` whose values are taken as they are (``None``: none).
        environ: Where ``${VAR}`` is looked up (default ``os.environ``).
        base_dir: The folder relative paths are resolved against
            (default: the spec file's folder, or the current folder).
        semantic: Also run the semantic checks (estimators, metrics, ...).
        frames: DataFrames for the spec's ``kind: frame`` sources, by source
            name (copied: a later change by the caller does not reach a run).

    Returns:
        The :class:`LoadedSpec`.

    Raises:
        SpecError: with every problem found, each located at ``file:line:col``.
        UsageError: if the file cannot be read, or ``frames`` names a source
            that is not ``kind: frame`` or holds something else than a DataFrame.
    """
    from pydantic import ValidationError

    from ..components import catalog  # noqa: F401 - registers the built-in names
    from .errors import translate
    from .models import Spec
    from .versions import upgrade

    inline: dict[str, Any] = {}
    if isinstance(source, Mapping):
        path = None
        smap = SourceMap("<spec>")
        data, inline = _inline_frames(dict(source))  # before the deep copy: the frames are copied once, below
        data = copy.deepcopy(data)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        data, smap = load_yaml(_read(path), str(source))
    else:
        raise TypeError(f"a spec is a path (str or os.PathLike) or a mapping, not {type(source).__name__}")
    file = smap.file
    if data is None:
        raise SpecError.single("the spec is empty", location=Location(file), hint="start from `mlx init`, or see examples/")
    if not isinstance(data, dict):
        raise SpecError.single(
            f"a spec is a mapping of sections, not {_KIND_WORDS.get(type(data).__name__, 'a ' + type(data).__name__)}",
            location=smap.locate(()),
            hint="start with `sources:` and `data:`",
        )
    data = {k: v for k, v in data.items() if not is_extension_key(k)}
    data = apply_overrides(data, overrides, smap)
    data, warnings = upgrade(data, smap)
    raw = copy.deepcopy(data)
    warnings = smap.warnings + warnings + shell_style_variables(data, smap)
    data = interpolate(data, smap, environ)
    if data.get("name") is None:
        data["name"] = _default_name(path)
    base = Path(base_dir) if base_dir is not None else (path.resolve().parent if path else Path.cwd())
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        problems = translate(exc, data, smap, Spec)
        if semantic:
            from .semantic import check_partial

            problems += check_partial(data, smap, problems, base_dir=base)
            problems.sort(key=lambda p: (p.location.line or 0, p.location.col or 0) if p.location else (0, 0))
        raise SpecError(problems + warnings) from None
    problems = list(warnings)
    if semantic:
        from .semantic import check

        problems += check(spec, smap, base_dir=base)
    if any(p.severity == "error" for p in problems):
        raise SpecError(problems)
    frames = _frames_mapping(frames)
    twice = sorted(set(inline) & set(frames))
    if twice:
        raise UsageError(f"frames: '{twice[0]}' is given twice, in the spec mapping and in frames=", hint="give each DataFrame once")
    loaded = LoadedSpec(spec=spec, path=path, base_dir=base, smap=smap, raw=raw, warnings=problems)
    blocked = _output_blocked(loaded.output_dir)
    if blocked is not None:
        given = "output" if spec.output else "name"
        raise SpecError(
            [
                Problem(
                    f"{str(blocked)!r} is a file, not a folder"
                    if blocked == loaded.output_dir
                    else f"the output folder {str(loaded.output_dir)!r} cannot be made: {str(blocked)!r} is a file",
                    path=given,
                    location=smap.locate((given,)),
                    hint="name a folder: output: runs/<name> (it is made when missing)",
                ),
                *problems,
            ]
        )
    return loaded.with_frames({**inline, **frames})


def is_extension_key(key: Any) -> bool:
    """A top-level ``x-...`` key: it only holds YAML anchors to reuse (docker compose's convention), and is ignored.

    >>> is_extension_key("x-common"), is_extension_key("xcommon")
    (True, False)
    """
    return isinstance(key, str) and key.startswith("x-")


_KIND_WORDS = {"str": "a single value", "int": "a number", "float": "a number", "bool": "true or false", "list": "a list"}


def _output_blocked(out: Path) -> Path | None:
    """The file that stands where the output folder or one of its parents must be, if any."""
    for p in (out, *out.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def validate(
    source: str | Path | Mapping,
    *,
    overrides: Iterable[str] | Mapping[str, Any] | None = (),
    environ: Mapping[str, str] | None = None,
    check_data: bool = False,
    frames: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Check a spec without raising on spec problems.

    Args:
        check_data: Also open the sources and check columns, join keys and
            target (reads schemas and a few rows, not whole tables).
        frames: DataFrames for ``kind: frame`` sources, as :func:`load_spec`
            takes them (with ``check_data``, a frame source without one is a problem).

    Raises:
        UsageError: ``frames`` is wrong (see :func:`load_spec`); never for spec problems.
    """
    file = str(source) if not isinstance(source, Mapping) else "<spec>"
    try:
        loaded = load_spec(source, overrides=overrides, environ=environ, frames=frames)
    except SpecError as exc:
        return ValidationReport(file, exc.problems, None)
    problems = list(loaded.warnings)
    if check_data:
        from ..data.check import check_data as _check
        from .semantic import UNREAD_SOURCE

        found = _check(loaded)
        # a file the static check did not find, reported again (an error) when opened: said once
        failed = {p.path for p in found if p.severity == "error" and p.path.startswith("sources.")}
        problems = [p for p in problems if not (p.message.endswith(UNREAD_SOURCE) and ".".join(p.path.split(".")[:2]) in failed)]
        problems += found
    return ValidationReport(file, problems, loaded)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec language (what ``mlx schema`` prints)."""
    from ..components import catalog  # noqa: F401
    from .models import Spec

    schema = _shorthands(_any_of(Spec.model_json_schema(by_alias=True, mode="validation")))
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://automl-yaml.dev/schemas/spec.schema.json",
        "title": "automl-yaml spec",
    }
    out.update(schema)
    out["title"] = "automl-yaml spec"
    return out


def _any_of(node: Any) -> Any:
    """``oneOf`` -> ``anyOf``: a fixed param value (any) and a search space both
    match ``{int: [1, 5]}``, and validation, not the schema, tells them apart."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


def _shorthands(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the short forms the models accept through before-validators."""
    from .models import _STEP_MODELS

    props = schema["properties"]
    schema["patternProperties"] = {
        "^x-": {"description": "Ignored: a block that holds YAML anchors to reuse elsewhere (x-common: &common ..., then *common or <<: *common)."}
    }
    src = props["sources"]["patternProperties"]
    for key, sub in src.items():
        src[key] = {"anyOf": [{"type": "string", "description": "Shorthand for {kind: file, path: ...}."}, sub]}
    models = props["models"]["anyOf"][0]
    models["additionalProperties"] = {"anyOf": [models["additionalProperties"], {"type": "null"}]}
    props["models"]["anyOf"].append({"type": "array", "items": {"type": "string"}, "description": "Model names, each with its default search space."})
    props["tracking"] = {
        "anyOf": [{"type": "boolean"}, {"type": "string", "description": "The tracking URI."}, props["tracking"]],
        "description": props["tracking"].get("description"),
    }
    props["select"]["items"]["anyOf"].append({"enum": sorted(_STEP_MODELS)})
    defs = schema["$defs"]
    for name in ("NumericSpec", "ColumnOverride"):
        field = defs[name]["properties"]["outliers"]
        field["anyOf"].append({"enum": ["none", "iqr", "zscore", "isolation_forest", False]})
    return schema
