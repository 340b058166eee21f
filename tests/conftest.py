"""Shared test set-up.

Fixture modules live in ``tests/fixtures/`` (one per area: services, data,
tracking, ...) and are all loaded here, so that areas do not edit one file.
"""

import os
import pathlib

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

pytest_plugins = sorted(
    f"fixtures.{p.stem}" for p in (pathlib.Path(__file__).parent / "fixtures").glob("*.py") if not p.stem.startswith("_")
)
