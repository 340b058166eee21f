"""``mlx init``: the examples, as templates users copy.

The examples live in the repository's ``examples/`` folder; wheels carry them
as ``automl_yaml/examples`` (see ``pyproject.toml``), so both an editable
install and a normal one find them.

An example's spec starts with ``# yaml-language-server: $schema=../../schemas/spec.schema.json``
(the repository's schema). That path means nothing in the user's new folder, so
:func:`copy_template` writes the schema beside the spec (``spec.schema.json``,
from the installed code: always the version that validates it) and points the
comment at it. ``mlx schema -o spec.schema.json`` refreshes it after an upgrade.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .errors import UsageError, suggestion_hint
from .io import atomic_write_text

#: The schema file :func:`copy_template` writes beside the copied spec.
SCHEMA_FILE = "spec.schema.json"
_SCHEMA_COMMENT = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*[ \t]*$", re.MULTILINE)


def examples_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "examples", here.parent / "examples"):
        if candidate.is_dir():
            return candidate
    raise UsageError(
        "the examples are not installed with this copy of automl-yaml", hint="reinstall: pip install --force-reinstall automl-yaml"
    )


def templates() -> dict[str, str]:
    """``{name: one-line summary}`` of every example folder with a spec.yaml."""
    out = {}
    for d in sorted(examples_dir().iterdir()):
        if (d / "spec.yaml").is_file():
            out[d.name] = _summary(d)
    return out


def _summary(folder: Path) -> str:
    readme = folder / "README.md"
    if not readme.is_file():
        return ""
    for line in readme.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return ""


#: What running an example leaves in its folder (README's set-up runs the quickstart
#: there): never copied. The tracking store with its WAL, journal and lock files,
#: MLflow's folders, the outputs (``runs/``, or the spec's ``output:``), caches.
RUN_ARTEFACTS = (
    "runs",
    "monitor",  # mlx monitor's outputs beside the spec
    "metrics",  # mlx monitor --prometheus in examples/monitoring's cron.sh
    "mlruns",
    "mlartifacts",
    "mlflow.db",
    "mlflow.db[-.]*",
    ".mlx-*",
    ".cache",
    ".lock",
    "__pycache__",
    "*.pyc",
)


def _artefacts(src: Path):
    """An ignore function for :func:`shutil.copytree`: the run artefacts, and the spec's own output folder."""
    patterns = list(RUN_ARTEFACTS)
    try:  # a spec with `output: elsewhere` writes there
        import yaml

        output = (yaml.safe_load((src / "spec.yaml").read_text(encoding="utf-8")) or {}).get("output")
    except Exception:  # noqa: BLE001 - the copy never fails on the spec; `mlx validate` says what is wrong with it
        output = None
    if isinstance(output, str) and output and not Path(output).is_absolute():
        first = Path(output).parts[0]
        if first not in (".", ".."):
            patterns.append(first)
    return shutil.ignore_patterns(*patterns)


def first_steps(folder: Path) -> list[str]:
    """What to do first in a copied template: its README's lines after the summary, up to a heading or a code block."""
    readme = folder / "README.md"
    if not readme.is_file():
        return []
    lines = readme.read_text(encoding="utf-8").splitlines()
    text = [line.strip() for line in lines if line.strip()]
    # the title, the summary (`mlx init --list` shows it), then the first steps
    body = text[2:] if text and text[0].startswith("#") else text[1:]
    steps = []
    for line in body:
        if line.startswith(("#", "```")):
            break
        steps.append(line)
    return steps


def copy_template(name: str, dest: Path, *, force: bool = False) -> Path:
    """Copy the example ``name`` into ``dest`` (which must be empty or new).

    The example's own files only: not what running it there left (:data:`RUN_ARTEFACTS`).
    Besides them, writes ``spec.schema.json`` and points the
    spec's ``yaml-language-server`` comment at it, so editors validate and
    complete the copied spec.

    Returns:
        ``dest``.

    Raises:
        UsageError: for an unknown template, or a ``dest`` that is not empty (without ``force``).
    """
    known = templates()
    if name not in known:
        raise UsageError(f"unknown template '{name}'", hint=suggestion_hint(name, known, what="template") + " (mlx init --list)")
    if dest.exists() and any(dest.iterdir()) and not force:
        raise UsageError(f"{dest} exists and is not empty", hint="choose a new folder, or pass --force")
    src = examples_dir() / name
    shutil.copytree(
        src,
        dest,
        dirs_exist_ok=True,
        ignore=_artefacts(src),
    )
    _point_at_local_schema(dest)
    return dest


def _point_at_local_schema(folder: Path) -> None:
    """Write the JSON Schema into ``folder`` and make its specs' schema comments use it."""
    from .spec import json_schema

    specs = [p for p in sorted(folder.glob("*.y*ml")) if _SCHEMA_COMMENT.search(p.read_text(encoding="utf-8"))]
    if not specs:
        return
    atomic_write_text(folder / SCHEMA_FILE, json.dumps(json_schema(), indent=2) + "\n")
    for spec in specs:
        text = spec.read_text(encoding="utf-8")
        atomic_write_text(spec, _SCHEMA_COMMENT.sub(f"# yaml-language-server: $schema={SCHEMA_FILE}", text, count=1))
