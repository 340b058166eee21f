"""The README's quickstart runs literally as written, command by command.

The commands between ``<!-- quickstart -->`` and ``<!-- /quickstart -->`` in
README.md are run one at a time with bash, in a new temporary folder, as a
user would type them (a ``cd`` carries over to the next command), with the
project's ``mlx`` first on PATH. Each must exit 0, and the predictions file
must hold one prediction (and one probability per class) for every input row.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from fixtures.docs import ROOT, VENV_BIN

from automl_yaml.spec import load_spec

START, END = "<!-- quickstart -->", "<!-- /quickstart -->"


def quickstart_commands() -> list[str]:
    """The shell commands of the README's quickstart block, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in text and END in text, f"README.md lost its {START} ... {END} markers"
    block = text.split(START, 1)[1].split(END, 1)[0]
    lines = [line.strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith(("```", "#"))]


def _option(argv: list[str], *names: str) -> str:
    for i, arg in enumerate(argv):
        if arg in names:
            return argv[i + 1]
        for name in names:
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"no {names} in {argv}")


def test_the_quickstart_block_is_what_the_test_expects():
    commands = quickstart_commands()
    assert commands[0].startswith("mlx init"), commands
    assert any(c.startswith("mlx run ") for c in commands)
    assert any(c.startswith("mlx predict ") for c in commands)


@pytest.mark.slow
def test_readme_quickstart_runs_as_written(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}  # a user's fresh shell
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", MPLBACKEND="Agg")
    cwd = tmp_path
    state = tmp_path.parent / f"{tmp_path.name}.cwd"
    predict_at = None
    for command in quickstart_commands():
        # run the command, then record the folder it leaves the shell in (for `cd`)
        script = f"set -euo pipefail\n{command}\npwd -P > {shlex.quote(str(state))}\n"
        done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (
            f"`{command}` exited {done.returncode} in {cwd}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
        cwd = Path(state.read_text().strip())
        if command.startswith("mlx predict"):
            predict_at = (cwd, shlex.split(command))
    assert predict_at is not None
    folder, argv = predict_at
    inputs = pd.read_csv(folder / _option(argv, "--input", "-i"))
    predictions = pd.read_csv(folder / _option(argv, "--output", "-o"))
    assert len(predictions) == len(inputs) > 0
    assert predictions["prediction"].notna().all()
    if "--proba" in argv:
        proba = predictions.filter(like="proba_")
        assert proba.shape[1] >= 2
        assert ((proba.sum(axis=1) - 1).abs() < 1e-6).all()
        assert set(predictions["prediction"]) <= {c.removeprefix("proba_") for c in proba.columns}
        assert (proba.idxmax(axis=1).str.removeprefix("proba_") == predictions["prediction"]).all()
    target = load_spec(folder / "spec.yaml").spec.data.target
    if target in inputs:  # the quickstart predicts the rows it learnt from: nearly all right
        assert (predictions["prediction"] == inputs[target]).mean() > 0.9
