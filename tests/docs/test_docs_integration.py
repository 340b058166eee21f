"""What users wire automl-yaml into: pre-commit, GitHub Actions, shell completion, `mlx init`."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from importlib.metadata import entry_points

import pytest
import yaml
from fixtures.docs import EXAMPLES, ROOT, VENV_BIN, example_names

from automl_yaml.spec import json_schema

BROKEN_SPEC = """\
sources:
  d: {kind: sample, name: iris}
data:
  target: target
models:
  random_forest:
    params:
      max_dept: 3
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


# ------------------------------------------------------------------------ pre-commit


@pytest.fixture(scope="module")
def hook() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list) and [h["id"] for h in hooks] == ["mlx-validate"]
    return hooks[0]


def test_pre_commit_hook_is_well_formed(hook):
    assert hook["language"] == "python"  # pre-commit installs this repository, which provides `mlx`
    assert hook["pass_filenames"] is True
    assert {"id", "name", "entry", "language", "files"} <= set(hook)
    files = re.compile(hook["files"])
    for name in ("spec.yaml", "specs/churn.yml", "examples/quickstart/spec.yaml"):
        assert files.search(name), name
    for name in ("spec.json", "README.md", "spec.yaml.bak"):
        assert not files.search(name), name


def test_pre_commit_entry_is_the_installed_console_script(hook):
    argv = shlex.split(hook["entry"])
    assert argv == ["mlx", "validate"]
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("mlx") == "automl_yaml.cli:entry"
    assert shutil.which("mlx", path=str(VENV_BIN))


def test_pre_commit_hook_passes_good_specs_and_fails_a_broken_one(hook, tmp_path):
    """Run the hook as pre-commit does: the entry, then the matching file names."""
    for name in example_names():
        shutil.copy(EXAMPLES / name / "spec.yaml", tmp_path / f"{name}.yaml")
    files = sorted(p.name for p in tmp_path.iterdir() if re.search(hook["files"], p.name))
    argv = [*shlex.split(hook["entry"]), *files]
    good = subprocess.run(argv, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert good.stdout.count(": valid") == len(files) == len(example_names())

    (tmp_path / "broken.yaml").write_text(BROKEN_SPEC)
    bad = subprocess.run([*argv, "broken.yaml"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2  # the commit is refused
    assert "broken.yaml:8:7: models.random_forest.params.max_dept" in bad.stderr
    assert "max_depth" in bad.stderr  # the did-you-mean hint


# ---------------------------------------------------------------------- GitHub Actions


@pytest.fixture(scope="module")
def workflow() -> dict:
    doc = yaml.safe_load((ROOT / "docs" / "github-actions.yml").read_text())
    assert isinstance(doc, dict)
    return doc


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_workflow_installs_automl_yaml_and_validates_with_annotations(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request", "schedule", "workflow_dispatch"} <= set(triggers)
    runs = [step.get("run", "") for step in _steps(workflow)]
    installs = [r for r in runs if "pip install" in r]
    assert installs and all("automl-yaml @ git+https://github.com/automl-yaml/automl-yaml@" in r for r in installs), installs  # not on PyPI
    assert any("mlx validate --format github" in r for r in runs)
    assert any(step.get("uses", "").startswith("actions/checkout@") for step in _steps(workflow))


def test_workflow_trains_after_validating_but_not_on_pull_requests(workflow):
    train = workflow["jobs"]["train"]
    assert train["needs"] == "validate"
    assert train["if"] == "github.event_name != 'pull_request'"
    assert any("mlx run" in step.get("run", "") for step in train["steps"])
    assert any(step.get("uses", "").startswith("actions/upload-artifact@") for step in train["steps"])
    commands = {m.group(1) for step in _steps(workflow) for m in re.finditer(r"\bmlx (\w+)", step.get("run", ""))}
    assert commands == {"validate", "run", "monitor"}  # only commands mlx has
    for command in commands:
        assert subprocess.run(["mlx", command, "--help"], env=_env(), capture_output=True, timeout=60).returncode == 0, command


def _actionlint(path) -> subprocess.CompletedProcess:
    exe = shutil.which("actionlint", path=str(VENV_BIN)) or shutil.which("actionlint")
    if not exe:
        pytest.fail("actionlint is not installed: pip install -e '.[test]'", pytrace=False)
    return subprocess.run([exe, "-no-color", str(path)], env=_env(), capture_output=True, text=True, timeout=120)


def test_workflow_passes_actionlint(tmp_path):
    """actionlint checks the workflow's syntax, expressions, action versions and job graph; it fails a broken copy."""
    path = ROOT / "docs" / "github-actions.yml"
    linted = _actionlint(path)
    assert linted.returncode == 0, linted.stdout + linted.stderr

    broken = tmp_path / "mlx.yml"
    broken.write_text(path.read_text().replace("needs: validate", "needs: validation"))  # a job that does not exist
    failed = _actionlint(broken)
    assert failed.returncode == 1 and "validation" in failed.stdout, failed.stdout + failed.stderr


def test_workflow_validate_step_runs_and_annotates(workflow, tmp_path):
    """The validate step's script, run in a repository with specs: silent when valid, ::error lines when not."""
    step = next(s for s in _steps(workflow) if "mlx validate --format github" in s.get("run", ""))
    (tmp_path / "specs" / "team").mkdir(parents=True)
    shutil.copy(EXAMPLES / "quickstart" / "spec.yaml", tmp_path / "specs" / "quickstart.yaml")
    shutil.copy(EXAMPLES / "strategy-grid" / "spec.yaml", tmp_path / "specs" / "team" / "grid.yaml")
    env = {**_env(), **{k: str(v) for k, v in workflow.get("env", {}).items()}}

    def run_step():
        return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    good = run_step()
    assert good.returncode == 0, good.stdout + good.stderr
    assert "::error" not in good.stdout
    assert "2 valid, 0 invalid" in good.stderr  # both specs, at any depth

    (tmp_path / "specs" / "team" / "broken.yaml").write_text(BROKEN_SPEC)
    bad = run_step()
    assert bad.returncode == 2
    errors = [line for line in bad.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1, bad.stdout
    assert errors[0].startswith("::error file=specs/team/broken.yaml,line=8,col=7,")


@pytest.mark.slow
def test_workflow_train_step_runs_every_spec(workflow, tmp_path):
    """The train step's script, run in a repository with two specs: both are trained; an empty SPECS fails."""
    step = next(s for s in workflow["jobs"]["train"]["steps"] if "mlx run" in s.get("run", ""))
    spec = yaml.safe_load((EXAMPLES / "strategy-grid" / "spec.yaml").read_text())
    (tmp_path / "specs" / "team").mkdir(parents=True)
    for name, where in (("a", "specs"), ("b", "specs/team")):
        small = {**spec, "name": name, "tracking": False, "output": f"runs/{name}"}
        small["search"] = {**small["search"], "budget": {"trials": 2}, "cv": {"folds": 2}}
        (tmp_path / where / f"{name}.yaml").write_text(yaml.safe_dump(small, sort_keys=False))
    env = {**_env(), **{k: str(v) for k, v in workflow.get("env", {}).items()}}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("::group::mlx run ") == 2
    assert (tmp_path / "specs" / "runs" / "a" / "model" / "MLmodel").is_file()
    assert (tmp_path / "specs" / "team" / "runs" / "b" / "model" / "MLmodel").is_file()

    none = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env={**env, "SPECS": "nothing/*.yaml"}, capture_output=True, text=True, timeout=60)
    assert none.returncode == 1 and "::error::no spec matches" in none.stdout


@pytest.mark.slow
def test_workflow_continuous_training_step_retrains_only_on_drift(workflow, tmp_path):
    """The continuous-training step's script on examples/monitoring: no drift keeps the champion; drift retrains behind the gate."""
    import pandas as pd
    from mlflow import MlflowClient

    job = workflow["jobs"]["continuous-training"]
    assert job["if"] == "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
    step = next(s for s in job["steps"] if "mlx monitor" in s.get("run", ""))
    shutil.copytree(EXAMPLES / "monitoring", tmp_path / "specs", ignore=shutil.ignore_patterns("runs", "mlflow.db*", "mlartifacts", "monitor"))
    env = {**_env(), **{k: str(v) for k, v in workflow.get("env", {}).items()}, "CT_SPEC": "specs/spec.yaml", "CT_MODEL": "models:/penguins-monitored@champion"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the SQLite store beside the spec
    first = subprocess.run(["mlx", "run", "specs/spec.yaml", "-q"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr

    def versions():
        client = MlflowClient(f"sqlite:///{tmp_path / 'specs' / 'mlflow.db'}")
        return sorted(str(v.version) for v in client.search_model_versions("name='penguins-monitored'"))

    calm = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert calm.returncode == 0 and "no drift: the champion stays" in calm.stdout, calm.stdout + calm.stderr
    assert versions() == ["1"] and "mlx_monitor_drift" in (tmp_path / "metrics" / "mlx.prom").read_text()
    rows = pd.read_csv(tmp_path / "specs" / "penguins.csv")
    rows["body_mass_g"] += 1500
    rows.to_csv(tmp_path / "specs" / "drifted.csv", index=False)
    spec = tmp_path / "specs" / "spec.yaml"
    spec.write_text(spec.read_text().replace("  current: penguins.csv", "  current: drifted.csv", 1))
    drift = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert drift.returncode == 0 and "::warning::drift in the data of specs/spec.yaml" in drift.stdout, drift.stdout[-3000:] + drift.stderr[-3000:]
    assert versions() == ["1", "2"]


# --------------------------------------------------------------------- shell completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts_as_documented(shell):
    doc = (ROOT / "docs" / "shell-completion.md").read_text()
    assert f"_MLX_COMPLETE={shell}_source mlx" in doc
    done = subprocess.run(["mlx"], env={**_env(), "_MLX_COMPLETE": f"{shell}_source"}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "_MLX_COMPLETE" in done.stdout and "mlx" in done.stdout


def test_bash_completion_completes_commands_and_choices():
    def complete(words: str, cword: int) -> list[str]:
        env = {**_env(), "_MLX_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        done = subprocess.run(["mlx"], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert complete("mlx va", 1) == ["validate"]
    assert complete("mlx validate --format ", 3) == ["text", "json", "github"]


# ------------------------------------------------------------------------------ mlx init


def test_init_list_shows_every_example(cli):
    result = cli("init", "--list")
    assert result.code == 0, result
    listed = {line.split()[0]: line.split(None, 1)[1] for line in result.out.splitlines() if line.strip()}
    assert sorted(listed) == example_names()
    for name, summary in listed.items():  # the summary is the README's first sentence
        assert summary in (EXAMPLES / name / "README.md").read_text(), name


@pytest.mark.parametrize("template", example_names())
def test_init_copies_a_template_that_validates_from_its_new_folder(template, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--template", template, "project")
    assert result.code == 0, result
    dest = tmp_path / "project"
    # the example's own files: not the store README's set-up command leaves there (mlx run examples/quickstart/spec.yaml)
    copied = {p.name for p in (EXAMPLES / template).iterdir() if p.is_file() and not p.name.startswith("mlflow.db")}
    assert copied <= {p.name for p in dest.iterdir()}
    assert not [p.name for p in dest.iterdir() if p.name.startswith("mlflow.db") or p.name in ("runs", "mlruns", "mlartifacts")]
    first = (dest / "spec.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=spec.schema.json"  # resolvable from the new folder
    assert json.loads((dest / "spec.schema.json").read_text()) == json_schema()

    monkeypatch.chdir(dest)
    validated = cli("validate", "spec.yaml")
    assert validated.code == 0, validated
    assert "spec.yaml: valid" in validated.out


def test_init_copies_a_templates_own_files_not_what_a_run_left_there(tmp_path, cli, monkeypatch):
    """README's set-up runs the quickstart in examples/: mlx init copied its store (and any run's outputs) too."""
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "quickstart", examples / "quickstart", ignore=lambda d, names: [n for n in names if n.startswith("mlflow.db")])
    template = examples / "quickstart"
    own = sorted(p.relative_to(template).as_posix() for p in template.rglob("*") if p.is_file())
    spec = template / "spec.yaml"
    spec.write_text(spec.read_text().replace("output: runs/quickstart", "output: results/quickstart"))
    left = [
        "mlflow.db", "mlflow.db-wal", "mlflow.db-shm", "mlflow.db-journal", "mlflow.db.lock",
        "mlruns/0/meta.yaml", "mlartifacts/1/abc/artifacts/summary.json",
        "runs/quickstart/summary.json", "results/quickstart/model/MLmodel", "results/quickstart/.mlx-run.json",
        "__pycache__/x.cpython-311.pyc", "monitor/monitor.json", "metrics/mlx.prom",
    ]  # fmt: skip
    for name in left:
        (template / name).parent.mkdir(parents=True, exist_ok=True)
        (template / name).write_text("left by a run")
    monkeypatch.setattr("automl_yaml.templates.examples_dir", lambda: examples)
    result = cli("init", "--template", "quickstart", tmp_path / "project")
    assert result.code == 0, result
    dest = tmp_path / "project"
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == sorted([*own, "spec.schema.json"])


def test_init_prints_the_first_steps_of_the_template(tmp_path, cli):
    """sql-source failed on its first run until `python make_db.py`: mlx init says it (from the template's README)."""
    result = cli("init", "--template", "sql-source", tmp_path / "zoo")
    assert result.code == 0, result
    assert f"next, in {tmp_path / 'zoo'} (from its README.md):" in result.out
    assert "`python make_db.py`" in result.out and "`mlx run spec.yaml` trains" in result.out
    # a README whose first steps are a code block: pointed at, with the commands to start with
    result = cli("init", "--template", "serving", tmp_path / "serving")
    assert result.code == 0, result
    assert f"next: read {tmp_path / 'serving' / 'README.md'}, then: mlx validate" in result.out


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, cli):
    (tmp_path / "notes.txt").write_text("mine")
    result = cli("init", "--template", "quickstart", tmp_path)
    assert result.code == 2
    assert "not empty" in result.err and "--force" in result.err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_init_unknown_template_suggests_the_close_one(tmp_path, cli):
    result = cli("init", "--template", "quickstrat", tmp_path / "x")
    assert result.code == 2
    assert "quickstart" in result.err
    assert not (tmp_path / "x").exists()
