"""The corpus of broken specs: every one is refused with exit 2, located, no traceback.

Each file in ``broken/`` says what it expects in header comments:

    # expect: <a substring of the message>
    # path: <the dotted path reported>        (optional)
    # hint: <a substring of the hint>         (optional)

and marks the culprit line with ``# <-``: the reported line must be that one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from automl_yaml.cli import main

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))


def _expectations(path: Path) -> dict:
    text = path.read_text(encoding="utf-8", errors="replace")
    exp = dict(re.findall(r"^# (expect|path|hint): (.*)$", text, flags=re.M))
    lines = [i for i, line in enumerate(text.splitlines(), 1) if line.rstrip().endswith("# <-")]
    exp["line"] = lines[0] if lines else None
    return exp


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_broken_spec(case: Path, capsys, monkeypatch):
    monkeypatch.delenv("MLX_TEST_SURELY_UNSET", raising=False)
    exp = _expectations(case)
    code = main(["validate", str(case), "--format", "json"])
    out = capsys.readouterr()
    assert code == 2, out
    assert "Traceback" not in out.out + out.err
    import json

    report = json.loads(out.out)
    assert report["valid"] is False
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    matching = [p for p in errors if exp["expect"].lower() in (p["message"] or "").lower()]
    assert matching, f"no error contains {exp['expect']!r}: {[p['message'] for p in errors]}"
    p = matching[0]
    assert p["file"] == str(case)
    if exp.get("line"):
        assert p["line"] == exp["line"], p
        assert p["col"] is not None and p["col"] >= 1
    if "path" in exp:
        assert p["path"] == exp["path"], p
    if "hint" in exp:
        assert p["hint"] and exp["hint"].lower() in p["hint"].lower(), p


@pytest.mark.parametrize("case", CASES[:3] + [BROKEN / "05_python_tag_apply.yaml", BROKEN / "33_unknown_hyperparameter.yaml"], ids=lambda p: p.stem)
def test_text_output_is_compiler_style(case: Path, capsys):
    exp = _expectations(case)
    assert main(["validate", str(case)]) == 2
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    if exp.get("line"):
        assert first.startswith(f"{case}:{exp['line']}:"), first
    assert exp["expect"].lower() in err.lower()


def test_python_tag_is_never_executed(tmp_path):
    marker = Path("/tmp/mlx-pwned")
    if marker.exists():
        marker.unlink()
    assert main(["validate", str(BROKEN / "05_python_tag_apply.yaml")]) == 2
    assert not marker.exists()


def test_non_utf8_bytes(tmp_path, capsys):
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes(b"sources:\n  d: {kind: sample, name: iris}\ndata:\n  target: esp\xe8ce\n")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:4:" in err and "not valid UTF-8" in err


def test_oversized_file_is_refused_before_parsing(tmp_path, capsys):
    spec = tmp_path / "huge.yaml"
    spec.write_text("sources: {d: {kind: sample, name: iris}}\ndata: {target: t}\n#" + "x" * 2_000_000 + "\n")
    assert main(["validate", str(spec)]) == 2
    assert "may be at most" in capsys.readouterr().err


def test_empty_file(tmp_path, capsys):
    spec = tmp_path / "empty.yaml"
    spec.write_text("# nothing here\n")
    assert main(["validate", str(spec)]) == 2
    assert "the spec is empty" in capsys.readouterr().err


def test_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("spec.yml", "did you mean {tmp}/spec.yaml?"),  # the other extension
        ("spce.yaml", "did you mean {tmp}/spec.yaml?"),  # a typo
        ("other.yaml", "specs in {tmp}: spec.yaml, train.yml"),  # nothing close: the specs there
        ("missing/spec.yaml", "no folder {tmp}/missing: check the path of the spec"),
    ],
)
def test_a_missing_spec_file_names_the_close_one(tmp_path, capsys, given, hint):
    (tmp_path / "spec.yaml").write_text("sources: {d: {kind: sample, name: iris}}\ndata: {target: target}\n")
    (tmp_path / "train.yml").write_text("")
    (tmp_path / "data.csv").write_text("a\n1\n")  # not a spec: never suggested
    assert main(["validate", str(tmp_path / given)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / given}: no such file" in err
    assert f"hint: {hint.format(tmp=tmp_path)}" in err


def test_all_errors_reported_at_once(tmp_path, capsys):
    spec = tmp_path / "many.yaml"
    spec.write_text(
        "sources:\n  d: {kind: sample, name: penguins}\n"
        "data: {target: species}\n"
        "preprocess: {numeric: {impute: medain}}\n"
        "models:\n  random_forest: {params: {max_dept: 3}}\n  logistic_regression: {params: {C: -1}}\n"
        "search: {strategy: genetic, options: {population: 1}}\n"
    )
    assert main(["validate", str(spec), "--format", "json"]) == 2
    import json

    problems = json.loads(capsys.readouterr().out)["problems"]
    lines = sorted(p["line"] for p in problems if p["severity"] == "error")
    assert lines == [4, 6, 7, 8]


def test_secret_never_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MLX_TEST_PW", "s3cr3t-Pa55")
    spec = tmp_path / "secret.yaml"
    spec.write_text(
        "sources:\n  db:\n    kind: sql\n    url: postgresql://me:${MLX_TEST_PW}@localhost/zoo\n    tables: animals\n"
        "data: {target: 5}\n"
    )
    assert main(["validate", str(spec), "--format", "json"]) == 2
    out = capsys.readouterr()
    assert "s3cr3t" not in out.out + out.err
    assert main(["validate", str(spec)]) == 2
    out = capsys.readouterr()
    assert "s3cr3t" not in out.out + out.err


@pytest.mark.parametrize("case", [BROKEN / "33_unknown_hyperparameter.yaml", BROKEN / "08_alias_bomb.yaml"], ids=lambda p: p.stem)
def test_real_process_exit_code_and_no_traceback(case: Path):
    proc = subprocess.run([sys.executable, "-m", "automl_yaml", "validate", str(case)], capture_output=True, text=True, timeout=120, env={**os.environ, "MLX_DEBUG": ""})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


def test_debug_shows_traceback(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("sources: {d: {kind: sample, name: iris}}\ndata: {target: t}\nsearch: {metric: nope}\n")
    proc = subprocess.run([sys.executable, "-m", "automl_yaml", "--debug", "plan", str(spec)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr
