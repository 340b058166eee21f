"""``${VAR}`` interpolation and ``--set a.b.c=value`` overrides.

Both work on the plain data tree between loading and validation, and both
record in the ``SourceMap`` what they did: interpolated paths keep their raw
text (so a resolved secret is never shown: messages, logs and saved copies of
the spec use ``${PGPASSWORD}``), and overridden paths point at their ``--set``.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from .. import secrets
from ..errors import Location, Problem, SpecError
from .loader import Path, SourceMap, dotted, load_yaml, parse_value

# ${NAME}, ${NAME:-default}; $${...} is a literal "${...}".
_VAR = re.compile(r"\$(\$)?\{([^}:]*)(?::-([^}]*))?\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def interpolate(data: Any, smap: SourceMap, environ: Mapping[str, str] | None = None) -> Any:
    """Return ``data`` with ``${VAR}`` references replaced from ``environ``.

    Raises:
        SpecError: naming every unset variable (without a default) and where it is used.
    """
    env = os.environ if environ is None else environ
    problems: list[Problem] = []

    def sub(text: str, path: Path) -> str:
        def problem(message: str, hint: str) -> None:
            problems.append(Problem(message, path=dotted(path), location=smap.locate(path), hint=hint))

        def one(m: re.Match) -> str:
            escaped, name, default = m.group(1), m.group(2), m.group(3)
            if escaped:
                return m.group(0)[1:]
            if not _NAME.match(name):
                problem(f"'{m.group(0)}' is not a valid variable reference", "use ${NAME} or ${NAME:-default}; write $${ for a literal '${'")
                return m.group(0)
            value = env.get(name)
            if value is None:
                if default is None:
                    problem(f"environment variable '{name}' is not set", f"export {name}=… before running, or give a default: ${{{name}:-value}}")
                    return ""
                value = default
            return _placed(value, name, text, m, path)

        new = _VAR.sub(one, text)
        unclosed = _UNCLOSED.search(_VAR.sub("", text))
        if unclosed:
            problem(f"'{unclosed.group(0)}' has no closing '}}'", "write ${NAME} or ${NAME:-default}; write $${ for a literal '${'")
        if new != text:
            smap.raw[path] = text
        return new

    def walk(node: Any, path: Path) -> Any:
        if isinstance(node, str):
            return sub(node, path) if "${" in node else node
        if isinstance(node, list):
            return [walk(v, path + (i,)) for i, v in enumerate(node)]
        if isinstance(node, dict):
            return {k: walk(v, path + (k,)) for k, v in node.items()}
        return node

    out = walk(data, ())
    if problems:
        raise SpecError(problems)
    return out


#: A variable whose name says it holds a secret: PGPASSWORD, DB_PASS, API_TOKEN, AWS_SECRET_ACCESS_KEY...
_SECRET_NAME = re.compile(r"(?i)(?:pass(?:word|wd)?|pwd)(?![a-z])|secret|token|api_?key|access_?key|private_?key|credential|signature")
#: The shell's folders, not secrets, whatever their names say.
_NOT_SECRET_NAMES = {"PWD", "OLDPWD"}
#: A query parameter that carries a secret (``?token=${T}``), just before a reference.
_SECRET_PARAM_BEFORE = re.compile(r"(?i)[?&;][A-Za-z0-9_.\-]*(?:pass|secret|token|sig|signature|credential|key)=$")
#: A URL's password inside a whole URL taken from a variable (``url: ${DATABASE_URL}``): up to the last ``@`` of the authority.
_URL_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*:(?P<pw>.+)@[^@]*$", re.S)
#: Characters a URL's user name or password holds as they are; anything else is percent-encoded.
_USERINFO_SAFE = "!$&'()*+,;=-._~"


def _userinfo_slot(text: str, m: re.Match) -> str | None:
    """``"user"`` or ``"password"`` when the reference ``m`` in ``text`` is in a URL's ``user:password@``, else None."""
    before, after = text[: m.start()], text[m.end() :]
    scheme = before.rfind("://")
    if scheme < 0:
        return None
    authority = before[scheme + 3 :]
    if any(c in authority for c in "/?#@") or re.search(r"\s", authority):
        return None
    rest = re.split(r"[/?#\s]", _VAR.sub("x", after), maxsplit=1)[0]
    if "@" not in rest:
        return None  # host:${PORT}, not a password
    return "password" if ":" in authority else "user"


def _encoded(value: str) -> str:
    """``value`` percent-encoded for a URL's user name or password (a ``%`` too: the variable holds the password itself)."""
    return quote(value, safe=_USERINFO_SAFE)


def _placed(value: str, name: str, text: str, m: re.Match, path: Path) -> str:
    """The value of ``${name}`` as it goes into ``text``; a secret is remembered, to be masked in every message.

    In a URL's ``user:password@`` the value is the name or password itself (as
    ``PGPASSWORD`` is): it is percent-encoded, so that ``@ / : # ?`` in a
    password do not change where the host starts (and show a part of the
    password in "cannot resolve host 'rest-of-password@db'").
    """
    from . import _SECRET_KEY  # the package imports this module first

    slot = _userinfo_slot(text, m)
    key = path[-1] if path and isinstance(path[-1], str) else ""
    secret = (
        slot == "password"
        or (bool(_SECRET_NAME.search(name)) and name not in _NOT_SECRET_NAMES)
        or bool(_SECRET_KEY.search(key))
        or bool(_SECRET_PARAM_BEFORE.search(text[: m.start()]))
    )
    if slot is not None:
        value_in_url = _encoded(value)
        if secret:
            secrets.remember(value)
            secrets.remember(value_in_url)
        return value_in_url
    if secret:
        secrets.remember(value)
    whole = _URL_USERINFO.match(value)
    if whole:  # url: ${DATABASE_URL}: its password
        secrets.remember(whole.group("pw"))
        secrets.remember(unquote(whole.group("pw")))
    return value


#: A ``${`` (not ``$${``) with no closing brace, up to the end of its word.
_UNCLOSED = re.compile(r"(?<!\$)\$\{[^}\s]*")
#: A shell-style ``$NAME``, which a spec does not expand.
_SHELL_VAR = re.compile(r"(?<![$\w])\$([A-Z_][A-Z0-9_]+)\b(?!\{)")


def shell_style_variables(data: Any, smap: SourceMap) -> list[Problem]:
    """Warnings for ``$NAME`` in string values: only ``${NAME}`` is replaced."""
    found: list[Problem] = []

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, str) and "$" in node:
            for m in _SHELL_VAR.finditer(node):
                found.append(
                    Problem(
                        f"'${m.group(1)}' is not replaced: a spec replaces ${{{m.group(1)}}} only",
                        path=dotted(path),
                        location=smap.locate(path),
                        hint=f"write ${{{m.group(1)}}}",
                        severity="warning",
                    )
                )
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + (k,))

    walk(data, ())
    return found


def referenced_variables(data: Any) -> set[str]:
    """Names of the environment variables a data tree refers to."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.update(m.group(2) for m in _VAR.finditer(node) if not m.group(1) and _NAME.match(m.group(2)))
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)

    walk(data)
    return found


def _shown(arg: str) -> str:
    """A ``--set KEY=VALUE`` as messages show it: a password in a URL, or the value of a secret-named key, masked."""
    from . import redact_field

    key, sep, value = arg.partition("=")
    if not sep:
        return redact_field(None, arg)
    return f"{key}={redact_field(key.strip().rsplit('.', 1)[-1], value)}"


def _set_problem(arg: str, message: str, hint: str | None = None, path: Path = ()) -> SpecError:
    """A ``--set`` mistake, located at the argument (so ``--format json`` reports it like any other)."""
    return SpecError([Problem(message, path=dotted(path), location=Location(f"--set {_shown(arg)}"), hint=hint)])


def parse_override(arg: str) -> tuple[Path, Any]:
    """``"search.budget.trials=20"`` -> ``(("search", "budget", "trials"), 20)``.

    Raises:
        SpecError: (a :class:`UsageError`) located at ``--set ARG``.
    """
    key, sep, value = arg.partition("=")
    key = key.strip()
    if not sep or not key:
        raise _set_problem(arg, "expected KEY=VALUE", "for example: --set search.budget.trials=20")
    parts: list[str | int] = []
    for part in key.split("."):
        if part == "":
            raise _set_problem(arg, f"empty component in '{key}'", "write a.b.c=value")
        parts.append(int(part) if part.lstrip("-").isdigit() else part)
    text = value.strip()
    if text[:1] in ("{", "[", "&", "*", "!", "|", ">") or text[:1] in ("'", '"'):
        try:
            load_yaml(text, "--set")
        except SpecError as exc:
            problem = exc.problems[0].message.removeprefix("invalid YAML: ")
            raise _set_problem(
                arg,
                f"the value is not valid YAML: {problem}",
                "check the brackets and quotes; quote the whole argument for the shell: --set 'a.b={choice: [1, 2]}'",
                tuple(parts),
            ) from None
    return tuple(parts), parse_value(value)


def _override_items(overrides: Any) -> list[tuple[str, Path | None, Any]]:
    """``(text, path, value)`` for each override: ``"KEY=VALUE"`` strings are parsed later (path None).

    The library takes what a Python user would write: ``None``, one string,
    a list of strings (the CLI's ``--set``), or a mapping ``{"search.budget.trials": 20}``
    whose values are used as they are (not parsed as YAML).
    """
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [(overrides, None, None)]
    if isinstance(overrides, Mapping):
        items = []
        for key, value in overrides.items():
            text = f"{key}={value!r}"
            parsed, _ = parse_override(f"{key}=") if isinstance(key, str) else (None, None)
            if parsed is None:
                raise _set_problem(text, "an override's key must be a dotted string", "for example: {'search.budget.trials': 20}")
            items.append((text, parsed, value))
        return items
    return [(str(arg), None, None) for arg in overrides]


def apply_overrides(data: Any, overrides: Iterable[str] | Mapping[str, Any] | None, smap: SourceMap) -> Any:
    """Set each ``KEY=VALUE`` in a copy of ``data``, creating mappings on the way.

    Raises:
        SpecError: naming every ``--set`` that cannot be applied.
    """
    overrides = _override_items(overrides)
    if not overrides:
        return data
    data = copy.deepcopy(data) if data is not None else {}
    if not isinstance(data, dict):
        raise SpecError.single("the spec must be a mapping to apply --set", location=Location(smap.file))
    problems: list[Problem] = []
    for arg, path, value in overrides:
        try:
            if path is None:
                path, value = parse_override(arg)
            _apply_one(data, arg, path, copy.deepcopy(value), smap)
        except SpecError as exc:
            problems += exc.problems
    if problems:
        raise SpecError(problems)
    return data


def _apply_one(data: dict, arg: str, path: Path, value: Any, smap: SourceMap) -> None:
    node: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, dict):
            if node.get(part) is None:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
            node = node[part]
        else:
            raise _set_problem(
                arg,
                f"'{dotted(path[: i + 1])}' cannot be set here ('{dotted(path[:i])}' is a {_kind(node)})",
                _index_hint(node, path[:i]),
                path,
            )
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and -len(node) <= last < len(node):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last == len(node):
        node.append(value)
    else:
        raise _set_problem(arg, f"cannot set '{dotted(path)}' in a {_kind(node)}", _index_hint(node, path[:-1]), path)
    smap.origin[path] = f"--set {_shown(arg)}"
    # what the file said at or below this path no longer applies
    for table in (smap.values, smap.keys, smap.raw):
        for p in [p for p in table if p[: len(path)] == path]:
            del table[p]


def _kind(node: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(node), type(node).__name__)


def _index_hint(node: Any, parent: Path) -> str | None:
    if isinstance(node, list):
        return f"'{dotted(parent)}' is a list: address its items by number, e.g. {dotted(parent)}.0 (it has {len(node)})"
    if not isinstance(node, dict):
        return f"set '{dotted(parent)}' itself: --set {dotted(parent)}=<value>"
    return None
