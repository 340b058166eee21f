"""What a new user meets after the quickstart (issue: fresh-user walkthrough).

The serve command at the end of `mlx run` is run as printed, against a real
`mlflow models serve`, without MLFLOW_ALLOW_PICKLE_DESERIALIZATION in the
environment (MLflow loads pickles unless it is false); `mlx predict` keeps a
user's explicit `false` and names the missing input file; `mlx list` shows a
space's brackets; `mlx plan` says "whichever comes first" only of two limits.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from rich.console import Console

from automl_yaml.cli import main
from automl_yaml.runner import Display, _final_display, serve_command

FLAG = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"


def _summary(tracking: dict) -> dict:
    return {
        "best": {"trial": 0, "model": "svm", "params": {}, "options": {}},
        "holdout": {"accuracy": 0.9},
        "trials": {"ok": 1, "failed": 0, "timeout": 0, "pruned": 0},
        "stopped": "budget: trials",
        "strategy": "random",
        "tracking": tracking,
    }


def _final_lines(summary: dict, out: Path) -> list[str]:
    d = Display(quiet=False, progress=False)
    buf = io.StringIO()
    d._console = Console(file=buf, force_terminal=False, width=60)
    board = pd.DataFrame([{"rank": 1, "trial": 0, "model": "svm", "accuracy_mean": 0.9, "accuracy_std": 0.01, "fit_time_s": 0.1, "status": "ok"}])
    _final_display(d, summary, board, [SimpleNamespace(name="accuracy")], out)
    return buf.getvalue().splitlines()


def test_the_serve_command_names_the_registered_alias_with_its_store(tmp_path):
    tr = {"run_id": "r1", "tracking_uri": "sqlite:////tmp/a b/mlflow.db", "registered_model": "penguins", "registered_version": 3,
          "registered_uri": "models:/penguins@champion"}
    assert serve_command(tr, tmp_path / "model") == (
        "MLFLOW_TRACKING_URI='sqlite:////tmp/a b/mlflow.db' mlflow models serve -m models:/penguins@champion --env-manager local -h 127.0.0.1 -p 5000"
    )
    no_alias = {**tr, "registered_uri": None}
    assert "-m models:/penguins/3 " in serve_command(no_alias, tmp_path / "model")
    # tracking off or nothing registered: the model folder of the output
    assert serve_command({}, tmp_path / "model") == f"mlflow models serve -m {tmp_path / 'model'} --env-manager local -h 127.0.0.1 -p 5000"


def test_the_run_ends_with_the_serve_command_on_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv(FLAG, raising=False)
    out = tmp_path / "a-rather-long-folder-name-that-a-narrow-terminal-would-wrap" / "runs" / "x"
    lines = _final_lines(_summary({}), out)
    serve = [ln for ln in lines if ln.startswith("serve it: ")]
    assert serve == [f"serve it: mlflow models serve -m {out / 'model'} --env-manager local -h 127.0.0.1 -p 5000"]
    assert not any(FLAG in ln for ln in lines)
    monkeypatch.setenv(FLAG, "false")
    text = "\n".join(_final_lines(_summary({}), out))
    assert f"{FLAG} is false here" in text and f"{FLAG}=true" in text


@pytest.mark.parametrize("value", ["false", "0", "False"])
def test_predict_keeps_an_explicit_false_and_says_how_to_load(tmp_path, small_spec, monkeypatch, capsys, value):
    spec = small_spec({"tracking": False})
    assert main(["run", str(spec), "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setenv(FLAG, value)
    args = ["predict", "-m", str(tmp_path / "runs" / "small"), "-i", str(tmp_path / "penguins.csv"), "-o", str(tmp_path / "p.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{FLAG} is false in this environment" in err and f"hint: for a model you trust: {FLAG}=true mlx predict" in err
    assert "Traceback" not in err and os.environ[FLAG] == value and not (tmp_path / "p.csv").exists()
    # unset: MLflow's default loads it, and the variable is still unset afterwards (not left on for the process)
    monkeypatch.delenv(FLAG)
    assert main(args) == 0
    assert FLAG not in os.environ and len(pd.read_csv(tmp_path / "p.csv")) == 344


def test_predict_names_a_missing_input_file(tmp_path, small_spec, capsys, monkeypatch):
    spec = small_spec({"tracking": False})
    assert main(["run", str(spec), "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    model = str(tmp_path / "runs" / "small")
    assert main(["predict", "-m", model, "-i", "penguin.csv", "-o", "p.csv"]) == 2
    err = capsys.readouterr().err
    assert f"error: no input file 'penguin.csv' (looked in {tmp_path})" in err and "did you mean 'penguins.csv'?" in err
    assert "spec's folder" not in err and "source 'input'" not in err
    assert main(["predict", "-m", model, "-i", "nothing/new.csv", "-o", "p.csv"]) == 2
    assert "no input file 'nothing/new.csv'" in capsys.readouterr().err


def test_list_shows_the_brackets_of_a_space(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    res = cli("list", "models")
    assert res.code == 0
    assert "max_depth={choice: [null, 8, 16, 32]}" in res.out  # rich read "[null, 8, 16, 32]" as markup and dropped it


def test_list_estimators_shows_each_model_once(cli, monkeypatch):
    """Every class was listed twice (RandomForestClassifier, random_forest_classifier) beside its family: 330 lines."""
    from automl_yaml.components.catalog import estimator_names, snake_case

    res = cli("list", "estimators", "--json")
    rows = json.loads(res.out)["estimators"]
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names)) and {"random_forest", "svm", "logistic_regression", "linear"} <= set(names)
    assert not {"RandomForestClassifier", "random_forest_classifier", "svc", "SVR"} & set(names)
    per_task = [(t, r[t]) for r in rows for t in ("classification", "regression") if r[t]]
    assert per_task.count(("classification", "SVC")) == 1  # in svm's row only (svc was a row of its own)
    # every name a spec may use is still found: a row's name, its `also`, or a class shown (and its snake_case)
    classes = {c for _, c in per_task}
    found = set(names) | {a for r in rows for a in r["also"].split(", ") if a} | classes | {snake_case(c) for c in classes}
    assert set(estimator_names()) <= found
    monkeypatch.setenv("COLUMNS", "200")
    text = cli("list", "estimators").out
    assert len(text.splitlines()) < len(estimator_names()) / 2
    assert "random_forest_classifier" in text  # the caption says how a class is named


def test_plan_says_whichever_comes_first_only_of_two_limits(small_spec, cli):
    one = cli("plan", str(small_spec()))
    assert "budget:      5 trials\n" in one.out
    both = cli("plan", str(small_spec({"search": {"budget": {"trials": 5, "time": "1m"}}}, name="both.yaml")))
    assert "budget:      5 trials or 1m (whichever comes first)" in both.out


@pytest.mark.services
def test_the_printed_serve_command_serves_without_the_pickle_flag(tmp_path, small_spec, monkeypatch, capsys):
    from fixtures.services import free_port
    from fixtures.serving import serving

    monkeypatch.delenv(FLAG, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    spec = small_spec({"tracking": {"experiment": "walk", "register": "walk-model"}})
    capsys.readouterr()
    assert main(["run", str(spec)]) == 0
    text = capsys.readouterr()
    line = next(ln for ln in (text.out + text.err).splitlines() if ln.startswith("serve it: "))
    assert json.loads((tmp_path / "runs" / "small" / "summary.json").read_text())["serve"] == line.removeprefix("serve it: ")
    words = shlex.split(line.removeprefix("serve it: "))
    env = {k: v for k, v in os.environ.items() if k != FLAG}
    while "=" in words[0]:  # VAR=value prefixes, as a shell reads them
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    assert words[:4] == ["mlflow", "models", "serve", "-m"] and words[4] == "models:/walk-model@champion"
    port = free_port()
    words[words.index("-p") + 1] = str(port)
    bin_dir = Path(sys.executable).parent
    env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    with serving(words, port, env=env, cwd=tmp_path / "runs", died=lambda log: pytest.fail(f"the printed command did not serve: {log}")) as url:
        body = (tmp_path / "runs" / "small" / "model" / "serving_input_example.json").read_bytes()
        req = urllib.request.Request(f"{url}/invocations", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            answer = json.loads(r.read())
    assert set(answer["predictions"]) <= {"Adelie", "Chinstrap", "Gentoo"} and answer["predictions"]


def test_the_report_leaderboard_shows_no_pandas_na():
    from automl_yaml.report.html import fmt, table

    board = pd.DataFrame({"rank": pd.array([1, pd.NA], dtype="Int64"), "status": ["ok", "pruned"], "when": [pd.Timestamp("2026-01-02"), pd.NaT]})
    html = table(board)
    assert "&lt;NA&gt;" not in html and "NaT" not in html and "<td>pruned</td>" in html
    assert (fmt(pd.NA), fmt(pd.NaT), fmt(None), fmt(float("nan"))) == ("", "", "", "")


def test_the_resume_command_repeats_the_set_values():
    from automl_yaml.runner import resume_command

    assert resume_command("spec.yaml", ("search.budget.trials=10",)) == "mlx run spec.yaml --set search.budget.trials=10 --resume"
    assert resume_command("my spec.yaml", {"tracking": False, "name": "a b"}) == "mlx run 'my spec.yaml' --set tracking=false --set 'name=a b' --resume"
    assert resume_command(None) == "mlx run SPEC --resume"


def test_ctrl_c_with_set_values_says_a_resume_command_that_works(tmp_path, small_spec, monkeypatch, capsys):
    """The quickstart runs with --set search.budget.trials=10: the old hint, `mlx run spec.yaml --resume`, was refused (the spec changed)."""
    assert small_spec({"tracking": False}) == tmp_path / "spec.yaml"
    real = Display.trial
    seen = []

    def trial_then_ctrl_c(self, result):
        real(self, result)
        seen.append(result)
        if len(seen) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Display, "trial", trial_then_ctrl_c)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "spec.yaml", "--set", "search.budget.trials=4", "-o", "out"]) == 130
    err = capsys.readouterr().err
    line = next(ln.strip() for ln in err.splitlines() if ln.strip().startswith("mlx run "))
    assert line == "mlx run spec.yaml --set search.budget.trials=4 --set output=out --resume"
    assert [ln for ln in err.splitlines() if ln.startswith("interrupted")] == ["interrupted. finished trials are kept; continue with:"]  # said once
    monkeypatch.setattr(Display, "trial", real)
    assert main(shlex.split(line)[1:]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["trials"]["total"] == 4


def test_the_resume_command_never_shows_a_literal_secret():
    from automl_yaml.runner import resume_command

    line = resume_command("s.yaml", ("sources.db.url=postgresql://me:hunter2@localhost/zoo", "sources.api.token=abc123", "models=[svm]"))
    assert "hunter2" not in line and "abc123" not in line
    assert "--set 'sources.db.url=postgresql://me:***@localhost/zoo'" in line and "--set 'sources.api.token=***'" in line
    assert "--set 'models=[svm]'" in line


def test_resume_names_what_changed_and_a_complete_search_says_so(tmp_path, small_spec, capsys):
    spec = str(small_spec({"tracking": False}))
    assert main(["run", spec, "--set", "search.budget.trials=3"]) == 0
    capsys.readouterr()
    # what a trial is may not change: named, and not the budget that may
    assert main(["run", spec, "--set", "search.budget.trials=4", "--set", "search.cv.folds=4", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "the spec changed since the last run in" in err and "(search.cv.folds)" in err and "interrupted" not in err
    assert "give the same spec and --set values as that run" in err and "search.budget.trials=N" in err
    assert main(["run", spec, "--set", "search.budget.trials=3", "--resume"]) == 0
    out = capsys.readouterr()
    assert "was complete: no trial is run again" in out.out + out.err


def _results(out: Path) -> list[tuple[int, str]]:
    lines = [json.loads(line) for line in (out / "search" / "trials.jsonl").read_text().splitlines()]
    return [(r["number"], json.dumps(r["config"], sort_keys=True)) for r in lines if r.get("event") == "result"]


def test_resume_extends_a_finished_search_with_a_larger_budget(tmp_path, small_spec, capsys):
    """``--resume --set search.budget.trials=N``: the finished trials are kept, only the new ones run,
    and they are the trials a run with that budget from the start would have run."""
    spec = str(small_spec({"tracking": False}))
    assert main(["run", spec, "--set", "search.budget.trials=3", "--set", "output=a", "--quiet"]) == 0
    first = _results(tmp_path / "a")
    assert [n for n, _ in first] == [0, 1, 2]
    capsys.readouterr()
    assert main(["run", spec, "--set", "search.budget.trials=5", "--set", "output=a", "--set", "execution.n_jobs=2", "--resume"]) == 0
    out = capsys.readouterr()
    assert "with search.budget.trials, execution.n_jobs changed" in out.out + out.err
    extended = _results(tmp_path / "a")
    assert extended[:3] == first and sorted(n for n, _ in extended) == [0, 1, 2, 3, 4]  # none again, none lost
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["trials"]["total"] == 5
    assert main(["run", spec, "--set", "search.budget.trials=5", "--set", "output=b", "--quiet"]) == 0
    assert sorted(extended) == sorted(_results(tmp_path / "b"))  # the same trials as five from the start
    # the state now holds the new budget: resuming with it again runs nothing
    assert main(["run", spec, "--set", "search.budget.trials=5", "--set", "output=a", "--resume", "--quiet"]) == 0
    assert len(_results(tmp_path / "a")) == 5


def test_a_second_run_says_it_replaces_the_outputs_and_a_mistyped_model_folder_gets_a_suggestion(tmp_path, small_spec, capsys, monkeypatch):
    spec = str(small_spec({"tracking": False}))
    assert main(["run", spec, "--set", "search.budget.trials=2"]) == 0
    out = capsys.readouterr()
    assert "are replaced" not in out.out + out.err
    assert main(["run", spec, "--set", "search.budget.trials=2"]) == 0
    out = capsys.readouterr()
    assert f"the outputs of the last run in {tmp_path / 'runs' / 'small'} are replaced" in out.out + out.err
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "-m", "runs/smal", "-i", "penguins.csv", "-o", "p.csv"]) == 2
    assert "hint: did you mean 'runs/small'?" in capsys.readouterr().err


def test_warnings_and_the_best_line_are_printed_as_written_not_as_markup(tmp_path, small_spec, capsys):
    """`mlx run` of the s3-source example printed the hint as 'pip install "automl-yaml"': rich took [s3] for a style."""
    import automl_yaml
    from automl_yaml.errors import Problem
    from automl_yaml.spec import load_spec

    loaded = load_spec(small_spec({"tracking": False, "models": {"logistic_regression": {"params": {"C": {"choice": [0.5, 1.0]}, "max_iter": 500}}}}))
    loaded.warnings.append(Problem("reading s3:// needs s3fs", path="sources.x.path", hint='pip install "automl-yaml[s3]"', severity="warning"))
    automl_yaml.run(loaded, overrides=(), progress=False)
    out = capsys.readouterr()
    text = out.out + out.err
    assert 'hint: pip install "automl-yaml[s3]"' in text
    assert "[bold]" not in text and "best: trial " in text


def test_profile_and_predict_print_brackets_as_written(tmp_path, cli, monkeypatch, small_spec):
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "d.csv").write_text("weight [kg],colour,y\n1.5,[none],a\n2.5,red,b\n3.0,[none],a\n4.1,red,b\n5.0,red,a\n6.2,[none],b\n")
    (tmp_path / "s.yaml").write_text("sources: {d: d.csv}\ndata: {target: y}\nprofile: true\n")
    res = cli("profile", tmp_path / "s.yaml")
    assert res.code == 0, res
    text = res.out + res.err
    assert "weight [kg]" in text and "[none] (50%)" in text
    assert main(["run", str(small_spec({"tracking": False})), "--quiet"]) == 0
    res = cli("predict", "-m", tmp_path / "runs" / "small", "-i", tmp_path / "penguins.csv", "-o", tmp_path / "p[1].csv")
    assert res.code == 0 and f"to {tmp_path / 'p[1].csv'}" in res.out + res.err


@pytest.mark.parametrize("classes", [["Adelie", "Gentoo"], ["Adelie", "Chinstrap", "Gentoo"]])
def test_the_roc_axes_name_the_classes_not_the_codes(tmp_path, monkeypatch, classes):
    import numpy as np

    from automl_yaml.report import run as report

    seen = {}

    def keep(fig, path):
        ax = fig.axes[0]
        seen["x"], seen["y"] = ax.get_xlabel(), ax.get_ylabel()
        return path

    monkeypatch.setattr(report, "_save", keep)
    rng = np.random.default_rng(0)
    codes = np.arange(30) % len(classes)
    scores = rng.dirichlet(np.ones(len(classes)), size=30)
    report.plot_roc(codes, scores, classes, tmp_path / "roc.png")
    assert "Positive label: 1" not in seen["x"] + seen["y"]
    assert seen["x"] == ("False positive rate (positive: Gentoo)" if len(classes) == 2 else "False positive rate (each class vs the rest)")
