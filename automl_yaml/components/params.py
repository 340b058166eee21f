"""Check hyperparameter values against the constraints estimators declare.

Works on the JSON metadata of :mod:`automl_yaml.components.metadata`, so no
estimator is imported. A constraint we cannot evaluate statically (a callable,
an object type) makes the check answer "cannot tell", never a false error.
The wording follows scikit-learn's own: "must be an int in the range [1, inf)
or None".
"""

from __future__ import annotations

import math
from typing import Any

_INF = float("inf")


def _num(v: Any) -> float:
    if v is None:
        return _INF
    if isinstance(v, str):  # "inf", "-inf" written by repr()
        return float(v)
    return float(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _match(c: dict, v: Any) -> bool | None:
    """True if ``v`` satisfies ``c``, False if not, None if it cannot tell."""
    kind = c.get("kind")
    if kind == "none":
        return v is None
    if kind == "boolean":
        return isinstance(v, bool)
    if kind == "random_state":
        return v is None or (_is_int(v) and 0 <= v < 2**32)
    if kind == "verbose":
        return _is_int(v) or isinstance(v, bool)
    if kind == "nan":
        return isinstance(v, float) and math.isnan(v)
    if kind == "array-like":
        return True if isinstance(v, list) else False
    if kind == "cv_object":
        return True if (_is_int(v) and v >= 2) or v is None else None
    if kind == "type":
        t = c["type"]
        if t == "int":
            return _is_int(v)
        if t in ("real", "float"):
            return _is_real(v)
        if t == "real_not_int":
            return isinstance(v, float)
        if t == "str":
            return isinstance(v, str)
        if t == "dict":
            return isinstance(v, dict)
        if t in ("list", "tuple"):
            return isinstance(v, list)
        if t == "bool":
            return isinstance(v, bool)
        return None
    if kind == "interval":
        t = c["type"]
        if t == "int" and not _is_int(v):
            return False
        if t == "real" and not _is_real(v):
            return False
        if t == "real_not_int" and not isinstance(v, float):
            return False
        left = -_INF if c["left"] is None else _num(c["left"])
        right = _INF if c["right"] is None else _num(c["right"])
        closed = c.get("closed", "both")
        lo_ok = v >= left if closed in ("left", "both") else v > left
        hi_ok = v <= right if closed in ("right", "both") else v < right
        return bool(lo_ok and hi_ok)
    if kind == "options":
        return v in c.get("values", [])
    if kind == "instance":
        return False  # YAML gives plain values, never instances of a class
    if kind == "callable" and isinstance(v, str):
        return False  # a spec never names a Python function: a string is one of the other options, or wrong
    if kind in ("callable", "sparse matrix", "missing_values", "other"):
        return None if not isinstance(v, (bool, int, float)) or kind == "other" else False
    return None


def describe(c: dict) -> str:
    kind = c.get("kind")
    if kind == "none":
        return "None"
    if kind == "boolean":
        return "a bool"
    if kind == "random_state":
        return "an int in the range [0, 4294967295] or None"
    if kind == "verbose":
        return "an int"
    if kind == "type":
        return {"int": "an int", "real": "a float", "real_not_int": "a float", "str": "a str", "dict": "a dict", "list": "a list"}.get(
            c["type"], f"an instance of {c['type']}"
        )
    if kind == "interval":
        t = {"int": "an int", "real": "a float", "real_not_int": "a float"}.get(c["type"], "a number")
        lb = "[" if c.get("closed") in ("left", "both") and c["left"] is not None else "("
        rb = "]" if c.get("closed") in ("right", "both") and c["right"] is not None else ")"
        left = "-inf" if c["left"] is None else c["left"]
        right = "inf" if c["right"] is None else c["right"]
        return f"{t} in the range {lb}{left}, {right}{rb}"
    if kind == "options":
        vals = [v for v in c.get("values", []) if v not in c.get("deprecated", [])]
        return "a str among {" + ", ".join(repr(v) for v in vals) + "}" if all(isinstance(v, str) for v in vals) else f"one of {vals}"
    return kind or "?"


def check_value(param: dict, value: Any) -> str | None:
    """An error text if ``value`` cannot be valid for ``param``, else None."""
    constraints = param.get("constraints")
    if not constraints:
        return None
    wanted = []
    for c in constraints:
        ok = _match(c, value)
        if ok is None or ok:
            return None
        if not c.get("hidden") and c.get("kind") != "callable":  # a spec cannot give a callable
            wanted.append(describe(c))
    if not wanted:
        return None
    text = wanted[0] if len(wanted) == 1 else ", ".join(wanted[:-1]) + " or " + wanted[-1]
    return f"must be {text}"


def options_of(param: dict) -> list[str]:
    """The string options a parameter takes, for did-you-mean hints."""
    out: list[str] = []
    for c in param.get("constraints") or []:
        if c.get("kind") == "options" and not c.get("hidden"):
            out.extend(v for v in c.get("values", []) if isinstance(v, str))
    return out


def takes_int_only(param: dict) -> bool:
    """Whether every numeric constraint of ``param`` is integral."""
    numeric = [c for c in param.get("constraints") or [] if c.get("kind") in ("interval", "type") and c.get("type") in ("int", "real", "real_not_int")]
    return bool(numeric) and all(c.get("type") == "int" for c in numeric)
