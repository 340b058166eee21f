"""Registries of named components, and the plugin entry point.

A spec names components (``random_forest``, ``iqr``, ``optuna``); it can never
name a Python object. Every family — sources, transforms, selectors,
estimators, strategies, metrics — is one :class:`Registry`, and what a name
resolves to is decided here, by this package and by installed plugins, never
by the spec.

Entries are light: an entry records *where* its implementation lives (a
``"module:attribute"`` string inside this package or a plugin) and imports it
only when :meth:`Entry.load` is called, so that ``mlx validate`` can check names
without importing scikit-learn.

Plugins register more components through one entry-point group,
``automl_yaml.plugins``. Each entry point is a callable taking the
``automl_yaml.registry`` module::

    # pyproject.toml of a plugin
    [project.entry-points."automl_yaml.plugins"]
    my_plugin = "my_plugin:register"

    # my_plugin.py
    def register(registry):
        registry.selectors.register("boruta", "my_plugin.selectors:Boruta")

Plugins are loaded lazily: the first time a name is not found among the
built-ins, or when every name is listed.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .errors import AutomlYamlError, UsageError, suggestion_hint

ENTRY_POINT_GROUP = "automl_yaml.plugins"
_DECORATE = object()  # register(name) without a target returns a decorator


class UnknownComponentError(UsageError):
    """A name that no registry knows."""

    def __init__(self, family: str, name: str, known: list[str]):
        self.family = family
        self.name = name
        self.known = known
        super().__init__(f"unknown {family} '{name}'", hint=suggestion_hint(name, known, what=family))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered component.

    Attributes:
        name: The canonical name.
        target: ``"package.module:attribute"`` or the object itself.
        aliases: Other names that resolve to this entry.
        meta: Family-specific facts available without importing ``target``
            (the task of an estimator, the options a transform takes, ...).
    """

    name: str
    target: Any
    aliases: tuple[str, ...] = ()
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def load(self) -> Any:
        """Import and return the implementation."""
        if not isinstance(self.target, str):
            return self.target
        module, _, attr = self.target.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
        return obj


class Registry:
    """Names of one family of components.

    Example:
        >>> reg = Registry("scaler")
        >>> @reg.register("double")
        ... def double(x):
        ...     return 2 * x
        >>> reg.get("double").load()(2)
        4
    """

    def __init__(self, family: str):
        self.family = family
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, target: Any = _DECORATE, *, aliases: tuple[str, ...] = (), replace: bool = False, **meta):
        """Register ``target`` under ``name``; used bare or as a decorator.

        ``target`` may be None for entries that are pure metadata (metrics are
        scikit-learn scorer names; estimators keep their classes in ``meta``).

        Returns ``target`` (so the decorated function or class stays usable).

        Raises:
            ValueError: if the name is taken and ``replace`` is false.
        """

        def add(obj: Any) -> Any:
            for n in (name, *aliases):
                if not replace and (n in self._entries or n in self._aliases):
                    raise ValueError(f"{self.family} '{n}' is already registered")
            self._entries[name] = Entry(name, obj, tuple(aliases), dict(meta))
            for a in aliases:
                self._aliases[a] = name
            return obj

        if target is _DECORATE:
            return add
        return add(target)

    def _find(self, name: str) -> Entry | None:
        key = self._aliases.get(name, name)
        return self._entries.get(key)

    def get(self, name: str) -> Entry:
        """The entry for ``name`` or an alias of it.

        Raises:
            UnknownComponentError: with did-you-mean suggestions.
        """
        if not isinstance(name, str):
            raise UnknownComponentError(self.family, repr(name), self.names())
        entry = self._find(name)
        if entry is None and load_plugins():
            entry = self._find(name)
        if entry is None:
            raise UnknownComponentError(self.family, name, self.names(aliases=True))
        return entry

    def has(self, name: str) -> bool:
        """Whether ``name`` is registered already, without loading plugins."""
        return self._find(name) is not None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if self._find(name) is not None:
            return True
        return load_plugins() and self._find(name) is not None

    def names(self, *, aliases: bool = False) -> list[str]:
        """Every canonical name (and alias), plugins included, sorted."""
        load_plugins()
        out = set(self._entries)
        if aliases:
            out |= set(self._aliases)
        return sorted(out)

    def __iter__(self) -> Iterator[Entry]:
        load_plugins()
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)


_plugins_loaded = False


def load_plugins() -> bool:
    """Run every ``automl_yaml.plugins`` entry point once.

    Returns:
        True the first time, when plugins may have added names; False after.
    """
    global _plugins_loaded
    if _plugins_loaded:
        return False
    _plugins_loaded = True
    import sys
    from importlib.metadata import entry_points

    module = sys.modules[__name__]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            register: Callable = ep.load()
            register(module)
        except Exception as exc:  # a broken plugin must not break the tool
            raise AutomlYamlError(
                f"plugin '{ep.name}' ({ep.value}) failed to load: {exc}",
                hint=f"uninstall or fix the package providing the '{ENTRY_POINT_GROUP}' entry point '{ep.name}'",
            ) from exc
    return True


# The families. Built-in names are added by ``automl_yaml.components.catalog``,
# a light module (no heavy import) that every user of the registries imports.
sources = Registry("source kind")
transforms = Registry("transform")
selectors = Registry("selector")
estimators = Registry("estimator")
strategies = Registry("search strategy")
metrics = Registry("metric")

FAMILIES: dict[str, Registry] = {
    "sources": sources,
    "transforms": transforms,
    "selectors": selectors,
    "estimators": estimators,
    "strategies": strategies,
    "metrics": metrics,
}
