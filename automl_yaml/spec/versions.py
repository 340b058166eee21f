"""Spec language versions and the functions that upgrade old specs.

A spec says which version of the language it is written in (``version: 1``).
When the language changes incompatibly, the version goes up and a function is
registered here that rewrites a version N document into version N + 1, so old
specs keep working. ``mlx validate`` warns when it upgraded a spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import Location, Problem, SpecError
from .loader import SourceMap
from .models import CURRENT_VERSION

#: ``UPGRADES[n]`` turns a version-n document (a dict) into a version n+1 one.
UPGRADES: dict[int, Callable[[dict], dict]] = {}


def upgrader(from_version: int):
    """Register the upgrade from ``from_version`` to ``from_version + 1``."""

    def deco(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        UPGRADES[from_version] = fn
        return fn

    return deco


def upgrade(data: Any, smap: SourceMap) -> tuple[Any, list[Problem]]:
    """Bring ``data`` to the current version; returns it and any warnings."""
    if not isinstance(data, dict) or "version" not in data:
        return data, []
    v = data["version"]
    loc = smap.locate(("version",))
    if isinstance(v, bool) or not isinstance(v, int):
        raise SpecError.single(f"must be an integer, got {v!r}", path="version", location=loc, hint=f"write version: {CURRENT_VERSION}")
    if v > CURRENT_VERSION:
        raise SpecError.single(
            f"this spec is written for version {v} of the spec language; this automl-yaml reads up to {CURRENT_VERSION}",
            path="version",
            location=loc,
            hint="upgrade automl-yaml: pip install -U automl-yaml",
        )
    if v < 1:
        raise SpecError.single(f"there is no version {v}", path="version", location=loc, hint=f"write version: {CURRENT_VERSION}")
    warnings = []
    while v < CURRENT_VERSION:  # pragma: no cover - no old version exists yet
        data = UPGRADES[v](dict(data))
        v += 1
        data["version"] = v
        warnings.append(
            Problem(f"upgraded from version {v - 1} to {v}", path="version", location=Location(smap.file), severity="warning")
        )
    return data, warnings
