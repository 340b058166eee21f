"""``mlx init``: the examples, as templates users copy.

The examples live in the repository's ``examples/`` folder; wheels carry them
as ``automl_yaml/examples`` (see ``pyproject.toml``), so both an editable
install and a normal one find them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import UsageError, suggestion_hint


def examples_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "examples", here.parent / "examples"):
        if candidate.is_dir():
            return candidate
    raise UsageError("the examples are not installed with this copy of automl-yaml", hint="reinstall: pip install --force-reinstall automl-yaml")


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


def copy_template(name: str, dest: Path, *, force: bool = False) -> Path:
    """Copy the example ``name`` into ``dest`` (which must be empty or new)."""
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
        ignore=shutil.ignore_patterns("runs", "mlruns", "mlflow.db", "__pycache__", "*.pyc", ".mlx-cache"),
    )
    return dest
