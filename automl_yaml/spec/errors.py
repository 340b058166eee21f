"""pydantic validation errors -> located, readable :class:`Problem` s.

pydantic reports a ``loc`` that mixes data keys with union tags and model
names. We map it back onto the document by walking the data itself (the
deepest prefix of the path that exists there), which is what the
``SourceMap`` knows the position of, and rewrite pydantic's messages in one
house style: ``must be >= 2, got 1``, ``unknown key 'max_dept'`` + a did-you-mean.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..components import catalog
from ..errors import Problem, did_you_mean, suggestion_hint
from .hints import key_hint, type_hint
from .loader import SourceMap, dotted

_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "str": "a string",
    "dict": "a mapping",
    "list": "a list",
    "tuple": "a list",
    "model": "a mapping",
    "none": "null",
}

_COMPARE = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def data_path(loc: tuple, data: Any) -> tuple:
    """The part of ``loc`` that exists in ``data`` (drops union tags, model names)."""
    path: list = []
    node = data
    for i, part in enumerate(loc):
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if (
            isinstance(node, dict)
            and part in ("int", "float", "choice")
            and isinstance(nxt, str)
            and nxt != part
            and nxt in node
            and not isinstance(node.get(part), dict)
        ):
            continue  # the union tag of a search space ({int: [1, 9], step: 0}), not its `int` key
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and len(node) == 1 and part not in node and isinstance(part, str):
            continue  # a tag such as the selector name of a select step already consumed
    return tuple(path)


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _tag_of(tp: Any) -> str | None:
    if typing.get_origin(tp) is typing.Annotated:
        for meta in typing.get_args(tp)[1:]:
            tag = getattr(meta, "tag", None)
            if isinstance(tag, str):
                return tag
    return None


def model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class whose field set applies at ``loc`` (for unknown-key hints)."""
    tp: Any = root
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return None
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return None


def _step(tp: Any, part: Any) -> Any:
    raw = tp
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        members = typing.get_args(tp)
        for m in members:
            if _tag_of(m) == part:
                return _unwrap(m)
        for m in members:
            inner = _step(m, part)
            if inner is not None:
                return inner
        return None
    if origin in (list, tuple) and isinstance(part, int):
        return typing.get_args(tp)[0]
    if origin is dict:
        return typing.get_args(tp)[1]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            if part in (name, field.alias):
                ann = field.annotation
                if field.metadata:
                    ann = typing.Annotated[(ann, *field.metadata)]
                return ann
        return None
    del raw
    return None


def field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def translate(exc: ValidationError, data: Any, smap: SourceMap, root: type[BaseModel]) -> list[Problem]:
    """Every error of ``exc`` as a located Problem, merging union alternatives."""
    by_path: dict[tuple, list[dict]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = data_path(loc, data)
        if err["type"] == "extra_forbidden":
            path = path if path and path[-1] == loc[-1] else path + (loc[-1],)
        elif err["type"] == "value_error" and len(path) >= 1 and path[-1] in ("int", "float") and loc[-1] == path[-1]:
            path = path[:-1]  # a range's own check: report it on the searched field
        by_path.setdefault(path, []).append(err)

    # `metric: [accuracy, accuracyy]`: the list member's error at metric[1] is the problem; the
    # string member's "expected a string" at `metric` is noise of the union
    for path in [p for p in by_path if p]:
        errs = by_path[path]
        if all(e["type"] in _TYPE_MISMATCH for e in errs) and any(
            len(q) > len(path) and q[: len(path)] == path and any(e["type"] not in _TYPE_MISMATCH for e in by_path[q]) for q in by_path
        ):
            del by_path[path]

    # "missing required key 'data'" beside "unknown key 'Data'" (did you mean 'data'?) is one mistake
    unknown = {(p[:-1], str(p[-1])) for p, errs in by_path.items() if p and any(e["type"] == "extra_forbidden" for e in errs)}
    problems: list[Problem] = []
    for path, errs in by_path.items():
        if all(e["type"] == "missing" for e in errs) and any(
            parent == path and (did_you_mean(key, [str(e["loc"][-1]) for e in errs]) or _synonym_of(key, [str(e["loc"][-1]) for e in errs]))
            for parent, key in unknown
        ):
            continue  # `label: species` says "write `target`": no second "missing required key 'target'"
        problems.append(_one(path, errs, data, smap, root))
    problems.sort(key=lambda p: (p.location.line or 0, p.location.col or 0) if p.location else (0, 0))
    return problems


_SPLIT_BY = {
    "timeseries": "time",
    "time_series": "time",
    "temporal": "time",
    "date": "time",
    "datetime": "time",
    "chronological": "time",
    "groups": "group",
    "grouped": "group",
    "group_kfold": "group",
    "stratified": "random (classification targets are stratified by default)",
    "shuffle": "random",
}


def _synonym_of(key: str, fields: list[str]) -> bool:
    from .hints import KEY_HINTS

    return any(table.get(key.lower()) in fields for table in KEY_HINTS.values())


_FORMATS = {"xlsx": "excel", "xls": "excel", "xlsm": "excel", "txt": "csv", "pq": "parquet", "ndjson": "jsonl", "json_lines": "jsonl"}


def _has_key(data: Any, path: tuple) -> bool:
    if not path:
        return False
    parent = _value_at(data, path[:-1])
    return isinstance(parent, dict) and path[-1] in parent


def _value_at(data: Any, path: tuple) -> Any:
    node = data
    for p in path:
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _one(path: tuple, errs: list[dict], data: Any, smap: SourceMap, root: type[BaseModel]) -> Problem:
    # Prefer the most specific error: custom ones, then those deepest in the model.
    custom = [e for e in errs if e["type"] not in _GENERIC]
    if custom:
        errs = [custom[0]]
    if len(errs) > 1:
        return _merged(path, errs, data, smap)
    err = errs[0]
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = _value_at(data, path)
    shown = smap.display(path, value)
    hint = ctx.get("hint")
    where = dotted(path)

    if kind == "extra_forbidden":
        key = path[-1] if path else err["loc"][-1]
        model = model_at(root, tuple(err["loc"][:-1]))
        allowed = field_names(model) if model else []
        hint = key_hint(model, key, data, path, sections=False)
        if hint is None:
            hint = suggestion_hint(str(key), allowed, what="allowed") if allowed else None
        if allowed and hint and not hint.startswith("did you mean"):
            hint = key_hint(model, key, data, path) or "allowed keys here: " + ", ".join(allowed)
        invisible = [c for c in str(key) if c in _INVISIBLE]
        if invisible:
            hint = f"the key holds an invisible character (U+{ord(invisible[0]):04X}): retype it" + (f"; {hint}" if hint else "")
        return Problem(f"unknown key '{key}'", path=where, location=smap.locate(path, key=True), hint=hint)
    if kind == "missing":
        field = err["loc"][-1]
        if isinstance(field, int) and path and path[-1] in ("int", "float"):
            return Problem(
                f"a range has two ends, [low, high]; got {shown}",
                path=where,
                location=smap.locate(path),
                hint=f"write {{{path[-1]}: [low, high]}}, or a fixed value without {{{path[-1]}: ...}}",
            )
        return Problem(
            f"missing required key '{field}'",
            path=where,
            location=smap.locate(path),
            hint=_MISSING_HINTS.get(field),
        )
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",") if o.strip()]
        close = suggestion_hint(str(value), options) if isinstance(value, str) else None
        if isinstance(value, str) and path[-2:] == ("data", "task") and value.lower() in catalog.TASK_SYNONYMS:
            close = f"write task: {catalog.TASK_SYNONYMS[value.lower()]}"
            if value.lower() in ("binary", "multiclass", "multi-class", "binary_classification", "multiclass_classification"):
                close += " (binary or multiclass follows from the target's classes)"
        elif isinstance(value, str) and path[-1:] == ("by",) and value.lower() in _SPLIT_BY:
            close = f"write by: {_SPLIT_BY[value.lower()]}"
        elif isinstance(value, str) and path[-1:] == ("format",) and value.lower().lstrip(".") in _FORMATS:
            close = f"write format: {_FORMATS[value.lower().lstrip('.')]}"
        msg = f"must be one of {expected}; got {shown}"
        return Problem(msg, path=where, location=smap.locate(path), hint=close if close and close.startswith(("did", "write")) else None)
    if kind in _COMPARE:
        op, key = _COMPARE[kind]
        return Problem(f"must be {op} {ctx.get(key)}, got {shown}", path=where, location=smap.locate(path), hint=hint)
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        n = ctx.get("min_length") if kind.endswith("too_short") else ctx.get("max_length")
        what = "at least" if kind.endswith("too_short") else "at most"
        if isinstance(value, str):
            return Problem(f"must have {what} {n} characters, got {len(value)}", path=where, location=smap.locate(path))
        if path[-1:] in (("int",), ("float",)) and isinstance(value, list) and len(value) > 2:
            items = ", ".join("null" if v is None else str(v) for v in value)
            return Problem(
                f"a range has two ends, [low, high]; got {len(value)} values",
                path=where,
                location=smap.locate(path),
                hint=f"to search among these values write {{choice: [{items}]}}",
            )
        return Problem(f"must have {what} {n} item{'s' if n != 1 else ''}", path=where, location=smap.locate(path))
    if kind == "string_pattern_mismatch":
        if err["loc"][-1] == "[key]" and path:
            shown = repr(path[-1])  # the key is the name, not the value under it
        return Problem(
            f"{shown} is not a valid name",
            path=where,
            location=smap.locate(path),
            hint="use letters, digits, '_', '-' and '.', starting with a letter or '_'",
        )
    if kind.endswith(("_type", "_parsing")) or kind in ("model_type", "model_attributes_type", "dict_type", "list_type"):
        base = kind.rsplit("_", 1)[0]
        expected = _TYPE_NAMES.get(base, base.replace("_", " "))
        if kind in ("int_from_float",):
            expected = "a whole number"
        hint = hint or type_hint(path, value, expected)
        if value is None and _has_key(data, path):
            return Problem(f"is empty; expected {expected}", path=where, location=smap.locate(path), hint=hint)
        return Problem(f"expected {expected}, got {shown}", path=where, location=smap.locate(path), hint=hint)
    if kind == "int_from_float":
        hint = "use {float: [...]} to search real numbers" if len(path) >= 2 and path[-2] == "int" else None
        return Problem(f"expected a whole number, got {shown}", path=where, location=smap.locate(path), hint=hint)
    if kind == "choice_item":
        inner = dict(ctx["inner"])
        sub = path + ("choice", ctx["index"])
        inner_path = sub + data_path(tuple(inner.get("loc", ())), _value_at(data, sub))
        return _one(inner_path, [inner], data, smap, root)
    if kind == "search_space":
        if isinstance(value, dict) and sum(k in value for k in ("choice", "int", "float")) > 1:
            msg = "a search space has exactly one of `choice`, `int`, `float`"
            return Problem(msg, path=where, location=smap.locate(path), hint="for example {int: [1, 10]} or {choice: [a, b]}")
        return Problem(
            "a numeric range cannot be searched here",
            path=where,
            location=smap.locate(path),
            hint="list the values instead: {choice: [a, b, ...]}",
        )
    if kind == "source_kind":
        v = value.get("kind") if isinstance(value, dict) else None
        if v is not None:
            from .models import SOURCE_KINDS

            msg = f"unknown source kind {v!r}"
            hint = suggestion_hint(str(v), SOURCE_KINDS, what="source kind")
        elif type(value).__module__.split(".")[0] in ("pandas", "numpy", "polars", "pyarrow"):
            # a spec given as a Python mapping holding data: only a pandas DataFrame becomes a source
            msg = f"a {type(value).__module__.split('.')[0]} {type(value).__name__} cannot be a source"
            hint = "give a pandas DataFrame (pd.DataFrame(X).assign(target=y)); it becomes a `kind: frame` source"
        else:
            msg = "cannot tell the kind of this source"
            hint = "add `kind: file` (with path), `kind: sql` (url + table or query), `kind: mongo` (uri, database, collection)"
        return Problem(msg, path=where, location=smap.locate(path), hint=hint)
    if kind == "selector":
        from .models import _STEP_MODELS

        known = list(_STEP_MODELS)
        if isinstance(value, dict) and len(value) == 1:
            name = next(iter(value))
            sub = path + (name,)
            return Problem(
                f"unknown selector '{name}'",
                path=dotted(sub),
                location=smap.locate(sub, key=True),
                hint=suggestion_hint(str(name), known, what="selector"),
            )
        if isinstance(value, str):
            return Problem(f"unknown selector '{value}'", path=where, location=smap.locate(path), hint=suggestion_hint(value, known, what="selector"))
        hint = "for example: - univariate: {k: 10}; selectors: " + ", ".join(known)
        if isinstance(value, dict):
            empty = [k for k, v in value.items() if k in _STEP_MODELS and v is None]
            others = [k for k in value if k not in empty]
            if len(empty) == 1 and others:
                options = field_names(typing.get_type_hints(_STEP_MODELS[empty[0]])[empty[0]])
                if all(k in options for k in others):
                    hint = f"indent {', '.join(others)} under {empty[0]}: (two more spaces than {empty[0]})"
        return Problem(
            "a select step is a mapping with one selector name",
            path=where,
            location=smap.locate(path),
            hint=hint,
        )
    if kind == "strategy":
        if not isinstance(value, dict):
            return Problem(f"expected a mapping, got {shown}", path=where, location=smap.locate(path), hint=type_hint(path, value, "a mapping"))
        s = value.get("strategy")
        if isinstance(s, (list, dict)):
            sub = path + ("strategy",)
            return Problem(
                f"expected one strategy name, got {smap.display(sub, s)}",
                path=dotted(sub),
                location=smap.locate(sub),
                hint="a search runs one strategy; compare strategies with one run each: --set search.strategy=random",
            )
        sub = path + ("strategy",)
        other = catalog.synonym_hint(catalog.STRATEGY_SYNONYMS, str(s))
        return Problem(
            f"unknown search strategy {s!r}",
            path=dotted(sub),
            location=smap.locate(sub),
            hint=f"use {other}" if other else suggestion_hint(str(s), ["grid", "random", "bayesian", "genetic", "optuna", "hyperopt"], what="strategy"),
        )
    if kind == "unknown_name":
        return Problem(
            f"unknown {ctx.get('family')} {shown}" if err["msg"].startswith("unknown ") else err["msg"],
            path=where,
            location=smap.locate(path),
            hint=hint,
        )
    if kind in ("duration", "target_dropped", "missing_from", "bool_not_number"):
        msg = err["msg"]
        if kind == "duration":
            msg = f"{shown} is not a duration"
        loc_path = path
        if kind == "target_dropped":
            drop = _value_at(data, path + ("drop",))
            target = _value_at(data, path + ("target",))
            loc_path = path + ("drop",) + ((drop.index(target),) if isinstance(drop, list) and target in drop else ())
        if kind == "missing_from":
            loc_path = ("data",)
        return Problem(msg, path=dotted(loc_path), location=smap.locate(loc_path), hint=hint)
    if kind == "misplaced_key":
        sub = path + (ctx["key"],)
        return Problem(err["msg"], path=dotted(sub), location=smap.locate(sub, key=True), hint=hint)
    if kind == "n_jobs":
        return Problem(err["msg"], path=where, location=smap.locate(path), hint=hint)
    if kind == "field_error":  # a model's check about one of its fields: located at that field's value
        sub = path + (ctx["field"],)
        return Problem(err["msg"], path=dotted(sub), location=smap.locate(sub), hint=hint)
    if kind == "value_error":
        msg = err["msg"].removeprefix("Value error, ")
        return Problem(msg, path=where, location=smap.locate(path), hint=hint)
    msg = err["msg"]
    msg = msg[:1].lower() + msg[1:]
    return Problem(f"{msg}, got {shown}" if value is not None else msg, path=where, location=smap.locate(path), hint=hint)


_GENERIC = {
    "model_type",
    "model_attributes_type",
    "dict_type",
    "list_type",
    "string_type",
    "int_type",
    "float_type",
    "bool_type",
    "int_parsing",
    "float_parsing",
    "bool_parsing",
    "none_required",
    "literal_error",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "tuple_type",
    "int_from_float",
    "string_pattern_mismatch",
}

_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00a0", "\u00ad"}

#: A value of the wrong type (as opposed to a wrong value of the right type).
_TYPE_MISMATCH = {"model_type", "model_attributes_type", "dict_type", "list_type", "string_type", "int_type", "float_type", "bool_type", "none_required"}

_MISSING_HINTS = {
    "target": "name the column to predict: data: {target: <column>}",
    "data": "add a data section with at least the target: data: {target: <column>}",
    "sources": "add at least one source: sources: {mydata: data.csv}",
    "path": "a file source needs path: (a local path or a URL)",
    "url": "an sql source needs url: (an SQLAlchemy URL)",
    "uri": "a mongo source needs uri: (a MongoDB connection string)",
}


def _describe_expected(err: dict) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _COMPARE:
        op, key = _COMPARE[kind]
        bound = ctx.get(key)
        what = "an integer" if str(err["loc"][-1]).endswith("-int") else "a number"
        return f"{what} {op} {bound:g}" if isinstance(bound, (int, float)) else f"{what} {op} {bound}"
    if kind == "literal_error":
        expected = str(ctx.get("expected"))
        return expected if " or " not in expected and "," not in expected else "one of " + expected
    if kind.endswith(("_type", "_parsing")):
        base = kind.rsplit("_", 1)[0]
        return _TYPE_NAMES.get(base, base.replace("_", " "))
    return err["msg"][:1].lower() + err["msg"][1:]


def _merged(path: tuple, errs: list[dict], data: Any, smap: SourceMap) -> Problem:
    value = _value_at(data, path)
    seen: list[str] = []
    for e in errs:
        d = _describe_expected(e)
        if d not in seen:
            seen.append(d)
    shown = smap.display(path, value)
    expected = " or ".join(seen)
    hint = type_hint(path, value, expected)
    return Problem(f"expected {expected}; got {shown}", path=dotted(path), location=smap.locate(path), hint=hint)
