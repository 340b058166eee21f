"""The error hierarchy and the exit codes of the command line.

Every error a user can cause derives from :class:`AutomlYamlError`. The CLI has
exactly one error boundary (``automl_yaml.cli.main``) that maps these classes to
the named exit codes below and hides tracebacks unless ``--debug`` is given.

Spec problems are collected, not raised one at a time: a :class:`SpecError`
carries a list of :class:`Problem`, each rendered compiler-style as
``spec.yaml:14:7: models.lr.params.C: must be > 0, got -1`` plus a hint line.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
from collections.abc import Iterable, Sequence

from . import secrets

#: Everything went well.
EXIT_OK = 0
#: A runtime failure: a database that cannot be reached, every trial failed, ...
EXIT_RUNTIME = 1
#: The user's input is wrong: the spec, a command-line option, a column name.
EXIT_USAGE = 2
#: Interrupted by the user (Ctrl+C), or stopped by SIGTERM (``docker stop``,
#: a scheduler's cancel), which is handled as Ctrl+C; the conventional 128 + SIGINT.
EXIT_INTERRUPTED = 130


@dataclasses.dataclass(frozen=True)
class Location:
    """A position in a file, 1-based, as editors show it."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec.

    Attributes:
        message: What is wrong, starting lower-case, without the location.
        path: The dotted path of the field (``models.rf.params.max_depth``), or "".
        location: Where it is in the file, when known.
        hint: What to do about it, when there is something useful to say.
        severity: ``"error"`` or ``"warning"``; warnings never fail validation.
    """

    message: str
    path: str = ""
    location: Location | None = None
    hint: str | None = None
    severity: str = "error"

    def __post_init__(self) -> None:
        # a secret from ${VAR} is never in a message, however the message was made
        object.__setattr__(self, "message", secrets.mask(self.message))
        if self.hint:
            object.__setattr__(self, "hint", secrets.mask(self.hint))

    def render(self) -> str:
        head = f"{self.location}: " if self.location else ""
        where = f"{self.path}: " if self.path else ""
        tag = "warning: " if self.severity == "warning" else ""
        text = f"{head}{tag}{where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return secrets.mask(text)

    def to_dict(self) -> dict:
        loc = self.location
        return {
            "severity": self.severity,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "path": self.path,
            "message": secrets.mask(self.message),
            "hint": secrets.mask(self.hint) if self.hint else self.hint,
        }

    def github(self) -> str:
        """A GitHub Actions workflow command (``::error file=…,line=…``)."""
        loc = self.location
        props = []
        if loc:
            props.append(f"file={loc.file}")
            if loc.line is not None:
                props.append(f"line={loc.line}")
            if loc.col is not None:
                props.append(f"col={loc.col}")
        props.append("title=" + _gh_escape_prop(f"mlx validate: {self.path or 'spec'}"))
        msg = secrets.mask(self.message + (f" (hint: {self.hint})" if self.hint else ""))
        kind = "warning" if self.severity == "warning" else "error"
        return f"::{kind} {','.join(props)}::{_gh_escape_data(msg)}"


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the command line's handler.

    A ``KeyboardInterrupt``: everything that stops cleanly on Ctrl+C (the
    workers, the journal, the MLflow run, the resume command) does on SIGTERM.
    """

    def __init__(self, signum: int = 15):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        import signal

        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"


def interrupt_name(exc: BaseException | None) -> str:
    """``" (SIGTERM)"`` when ``exc`` (or what it was raised from) is a :class:`Terminated`, else ``""`` (Ctrl+C)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, Terminated):
            return f" ({exc.name})"
        exc = exc.__cause__ or exc.__context__
    return ""


class AutomlYamlError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = EXIT_RUNTIME

    def __init__(self, message: str, *, hint: str | None = None):
        message = secrets.mask(message)  # a secret from ${VAR}, wherever a library put it
        hint = secrets.mask(hint) if hint else hint
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return secrets.mask(text)

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "message": secrets.mask(self.message), "hint": secrets.mask(self.hint) if self.hint else self.hint}


class UsageError(AutomlYamlError):
    """The user asked for something that cannot be: a bad option, a missing file."""

    exit_code = EXIT_USAGE


class SpecError(UsageError):
    """A spec is invalid. Holds every problem found, not only the first."""

    def __init__(self, problems: Sequence[Problem]):
        problems = list(problems)
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0].render() if errors else "invalid spec"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)

    @classmethod
    def single(
        cls,
        message: str,
        *,
        path: str = "",
        location: Location | None = None,
        hint: str | None = None,
    ) -> SpecError:
        return cls([Problem(message, path=path, location=location, hint=hint)])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def render(self) -> str:
        errors = self.errors
        lines = [p.render() for p in self.problems]
        n = len(errors)
        lines.append(f"{n} error{'s' if n != 1 else ''} found")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"error": "SpecError", "problems": [p.to_dict() for p in self.problems]}


class DataError(AutomlYamlError):
    """The data does not fit the spec: a column is missing, the target has one class.

    ``exit_code`` is 1 by default (the data changed under a valid spec); pass
    ``usage=True`` when the spec itself names something that cannot exist.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        source: str | None = None,
        usage: bool = False,
    ):
        if source:
            message = f"source '{source}': {message}"
        super().__init__(message, hint=hint)
        self.source = source
        if usage:
            self.exit_code = EXIT_USAGE


class SourceError(DataError):
    """A source cannot be read: a missing file, an unreachable database."""


#: How to install PyTorch for the ``bayesian`` strategy. PyPI's torch for Linux
#: is a CUDA build of several GB, and the ``+cpu`` builds are only on PyTorch's
#: own index (or a local wheel), so the hint points there.
TORCH_PIP = (
    "pip install torch --index-url https://download.pytorch.org/whl/cpu"
    '   (the CPU build; or pip install "torch==2.13.0+cpu" where that wheel is at hand; PyPI\'s torch is a CUDA build of several GB)'
)


#: How to install the ``hyperopt`` strategy's library (an optional extra).
HYPEROPT_PIP = 'pip install "automl-yaml[hyperopt]"'


class MissingDependencyError(UsageError):
    """An optional library is needed for what the spec asks and is not installed."""

    def __init__(self, package: str, *, extra: str | None = None, purpose: str = "", pip: str | None = None):
        what = f" for {purpose}" if purpose else ""
        install = pip or (f'pip install "automl-yaml[{extra}]"' if extra else f"pip install {package}")
        super().__init__(f"the optional package '{package}' is needed{what} but is not installed", hint=install)
        self.package = package


class SearchError(AutomlYamlError):
    """The search could not produce a model (for example: every trial failed)."""


class TrackingError(AutomlYamlError):
    """The tracking server cannot be used."""


class StorageError(AutomlYamlError):
    """A file or folder cannot be written: the disk is full, read-only, not ours.

    The environment's failure, not the user's input nor a bug: exit 1, the
    cause and the path named (see :func:`storage_error`).
    """

    def __init__(self, message: str, *, hint: str | None = None, code: int | None = None, path: str | None = None):
        super().__init__(message, hint=hint)
        self.code = code
        self.path = path


#: What each errno of a storage failure means, in words.
STORAGE_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is larger than the file system allows",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# "[Errno 28] No space left on device: '/out/model/x.pkl'", as a library that
# wrapped the OSError kept it in its own message (MLflow's copy of the code
# paths; shutil.copytree's Error lists its failures as text)
_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\][^:'\]]*(?::\s*'([^']+)')?")


def storage_failure(exc: BaseException | None) -> tuple[int, str | None] | None:
    """``(errno, file or None)`` of a storage failure in ``exc`` or the exceptions it was raised from, or None.

    An ``OSError`` with one of :data:`STORAGE_CAUSES`' errnos, or one named in
    the text of an exception that wrapped it, or SQLite's "database or disk is full".
    """
    seen: set[int] = set()
    found: tuple[int, str | None] | None = None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in STORAGE_CAUSES:
            return exc.errno, None if exc.filename is None else str(exc.filename)
        text = str(exc)
        m = _ERRNO_TEXT.search(text)
        if found is None and m is not None and int(m.group(1)) in STORAGE_CAUSES:
            found = (int(m.group(1)), m.group(2))
        elif found is None and "database or disk is full" in text:
            found = (errno.ENOSPC, None)
        exc = exc.__cause__ or exc.__context__
    return found


def storage_error(exc: BaseException, *, folder: str | None = None, resume: str | None = None) -> StorageError | None:
    """A :class:`StorageError` naming the cause and the path of ``exc``'s storage failure, or None when it is not one.

    Args:
        folder: Named when the failure does not say its file (a write's ``flush``).
        resume: The command that continues the work, when resuming would work.
    """
    failure = storage_failure(exc)
    if failure is None:
        return None
    code, path = failure
    where = path or folder
    cause, said = STORAGE_CAUSES[code], os.strerror(code)
    # a full or read-only disk fails a write; a permission may be a read's too
    written = code in _FULL or code == errno.EROFS
    message = (cause if said.lower() in cause else f"{cause} ({said})") + (f": {'cannot write ' if written else ''}{where}" if where else "")
    if code in _FULL:
        hint = "free some space on that disk, or set another output folder with -o"
    elif written:
        hint = "set an output folder on a writable disk with -o"
    else:
        hint = "check that path's permissions (the output folder must be writable), or set another output folder with -o"
    if resume:
        hint += f"; then continue with: {resume}"
    return StorageError(message, hint=hint, code=code, path=where)


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Close matches of ``word`` among ``choices`` (``difflib``, case-insensitive)."""
    import difflib

    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[f] for f in found]


def suggestion_hint(word: str, choices: Iterable[str], *, what: str = "", limit: int = 12) -> str:
    """``did you mean 'x'?`` when something is close, else the list of known names."""
    choices = sorted(set(choices))
    close = did_you_mean(word, choices)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if not choices:
        return ""
    shown = ", ".join(choices[:limit]) + (f", … ({len(choices)} in all)" if len(choices) > limit else "")
    return f"known {what + ' ' if what else ''}names: {shown}"


def dumps_problems(problems: Sequence[Problem]) -> str:
    return json.dumps([p.to_dict() for p in problems], indent=2)


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``"ValueError: first line of the message"``, at most ``limit`` characters."""
    text = str(exc).strip().splitlines()
    msg = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"
