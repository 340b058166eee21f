"""Containers, as far as a machine without a Docker daemon allows (README, "Deploy").

* the tool's image (``Dockerfile``, ``.dockerignore``): linted by hadolint with
  no finding at any level, and its install step (the files it copies,
  ``pip install`` of them) is run here as ``pip wheel`` of those files;
* a model's image: ``mlflow models generate-dockerfile`` writes the
  Dockerfile and the model folder for a model trained by ``mlx run`` (no
  daemon needed), and hadolint finds no error in it.

No image is built: that needs a Docker daemon.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile

import pytest
from fixtures.docs import ROOT, VENV_BIN


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'", pytrace=False)
    return path


def hadolint(dockerfile, *args: str) -> tuple[int, list[dict]]:
    """(exit code, findings) of hadolint on ``dockerfile``; no configuration file but the arguments."""
    done = subprocess.run(
        [_tool("hadolint"), "--no-color", "-f", "json", *args, str(dockerfile)],
        cwd=os.path.dirname(dockerfile),
        env={**_env(), "XDG_CONFIG_HOME": os.devnull},  # no user's hadolint.yaml
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def _copies(dockerfile) -> list[tuple[list[str], str]]:
    """The ``COPY src... dest`` instructions of a Dockerfile."""
    out = []
    for line in dockerfile.read_text().splitlines():
        if m := re.match(r"^COPY\s+(?!--)(.+)\s+(\S+)$", line):
            out.append((m.group(1).split(), m.group(2)))
    return out


# ------------------------------------------------------------------ the tool's image


def test_tool_dockerfile_lints_clean_and_runs_mlx_as_a_user_on_work():
    dockerfile = ROOT / "Dockerfile"
    code, findings = hadolint(dockerfile)
    assert code == 0 and findings == [], findings  # no finding at any level, no rule ignored
    text = dockerfile.read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert text.rstrip().splitlines()[-2:] == ['ENTRYPOINT ["mlx"]', 'CMD ["--help"]']
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    assert re.findall(r"^WORKDIR (\S+)$", text, re.M)[-1] == "/work"  # where the spec is mounted


def test_tool_image_copies_what_dockerignore_keeps():
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*"  # an allow-list: the checkout's runs, venvs and caches stay out of the context
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    sources = [src for srcs, _ in _copies(ROOT / "Dockerfile") for src in srcs]
    assert sources, "no COPY in the Dockerfile"
    for src in sources:
        assert (ROOT / src).exists(), src
        assert src.rstrip("/") in kept, f"{src} is copied but .dockerignore leaves it out of the build context"


@pytest.mark.slow
def test_tool_image_install_step_builds_the_project_from_the_copied_files(tmp_path):
    """The image's ``pip install /src``, on exactly the files its COPY lines put in /src (as a wheel: no daemon here)."""
    src = tmp_path / "src"
    for sources, dest in _copies(ROOT / "Dockerfile"):
        assert dest.startswith("/src/") or dest == "/src", dest
        for s in sources:
            target = src / dest.removeprefix("/src").lstrip("/")
            if (ROOT / s).is_dir():
                shutil.copytree(ROOT / s, target, ignore=shutil.ignore_patterns("__pycache__", "runs", "mlruns", "mlartifacts", "mlflow.db*", "*.db"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / s, target / os.path.basename(s))
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "dist").glob("automl_yaml-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = next(z.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "automl_yaml/cli.py" in names
    assert "automl_yaml/examples/quickstart/spec.yaml" in names  # mlx init's templates
    assert "mlx = automl_yaml.cli:entry" in entry_points  # the image's ENTRYPOINT


# ------------------------------------------------------------------ a model's image


@pytest.mark.slow
def test_mlflow_generates_a_serving_dockerfile_for_a_model_mlx_trained(small_spec, tmp_path, cli, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    documented = re.search(r"^mlflow models generate-dockerfile -m runs:/<run_id>/model -d (\S+)", readme, re.M)
    assert documented, "README's Deploy section no longer shows the generate-dockerfile command: update this test"

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    spec = small_spec({"search": {"budget": {"trials": 2}}, "tracking": {"experiment": "deploy"}})
    ran = cli("run", spec, "--quiet")
    assert ran.code == 0, ran
    summary = json.loads((tmp_path / "runs" / "small" / "summary.json").read_text())
    uri = summary["tracking"]["model_uri"]
    assert re.fullmatch(r"runs:/\w+/model", uri), uri

    out = tmp_path / documented.group(1)
    env = {**_env(), "MLFLOW_TRACKING_URI": summary["tracking"]["tracking_uri"]}
    done = subprocess.run(
        [str(VENV_BIN / "mlflow"), "models", "generate-dockerfile", "-m", uri, "-d", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    dockerfile = out / "Dockerfile"
    text = dockerfile.read_text()
    assert re.search(r"^FROM python:3\.\d+", text, re.M), text
    assert (out / "model_dir" / "model" / "MLmodel").is_file()  # the model is copied into the image
    assert "COPY model_dir/model /opt/ml/model" in text
    assert "_serve" in text  # the entry point serves the model (port 8080)
    requirements = (out / "model_dir" / "model" / "requirements.txt").read_text()
    assert "scikit-learn==" in requirements and "mlflow==" in requirements  # pinned: what the image installs

    # MLflow's generated file: no error (its warnings, e.g. unpinned apt packages, are MLflow's to fix)
    code, findings = hadolint(dockerfile, "--failure-threshold", "error")
    assert code == 0, findings
    assert not [f for f in findings if f["level"] == "error"], findings
