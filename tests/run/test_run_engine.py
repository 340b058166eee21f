"""`mlx run` end to end: outputs, JSON, determinism, resume after a kill, Ctrl+C, errors."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from fixtures.runs import session_processes

import automl_yaml
from automl_yaml.cli import main

pytestmark = pytest.mark.slow


def test_outputs_and_library_result(tmp_path, small_spec):
    spec = small_spec({"tracking": False, "profile": True})
    result = automl_yaml.run(spec, quiet=True)
    out = tmp_path / "runs" / "small"
    assert result.output_dir == out
    for name in ("model/MLmodel", "leaderboard.csv", "summary.json", "report.html", "plan.json", "spec.yaml", "plots/history.png", "plots/confusion_matrix.png", "profile/profile.html"):
        assert (out / name).exists(), name
    board = pd.read_csv(out / "leaderboard.csv")
    assert len(board) == 5 == len(result.leaderboard)
    assert board["trial"].tolist() != [] and set(board["status"]) <= {"ok", "failed", "timeout", "pruned"}
    best = board.iloc[0]
    assert best["best"] and best["trial"] == result.summary["best"]["trial"]
    assert best["accuracy_mean"] == pytest.approx(result.cv_score)
    assert result.holdout["accuracy"] == pytest.approx(json.loads((out / "summary.json").read_text())["holdout"]["accuracy"])
    assert 0.8 < result.holdout["accuracy"] <= 1.0
    assert result.best_model in ("random_forest", "logistic_regression")
    assert not (tmp_path / "mlflow.db").exists()
    # the model from the result: the same predictions as the saved model, in one line of repr
    frame = pd.read_csv(tmp_path / "penguins.csv")
    predicted = result.predict(frame.drop(columns="species"), proba=True)
    assert predicted.columns.tolist() == ["prediction", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
    assert (predicted["prediction"] == frame["species"]).mean() > 0.8
    assert result.load_model() is result.load_model()  # loaded once
    with pytest.raises(TypeError, match="data is a DataFrame or the path of a data file, not int"):
        result.predict(42)
    assert (result.load_model().predict(frame) == predicted["prediction"].to_numpy()).all()
    text = repr(result)
    assert "best_model='" in text and "leaderboard" not in text and "summary" not in text and "\n" not in text


def test_json_output(tmp_path, small_spec, capsys):
    spec = small_spec({"tracking": False})
    assert main(["run", str(spec), "--json"]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert summary["trials"]["total"] == 5 and summary["task"] == "classification"
    assert summary["task_reason"]


@pytest.mark.parametrize(
    "search",
    [{}, {"strategy": "hyperopt", "budget": {"trials": 6}, "options": {"n_startup_trials": 2}}],  # hyperopt: TPE from trial 2 on
    ids=["random", "hyperopt"],
)
def test_same_seed_same_trials(tmp_path, small_spec, search):
    spec = small_spec({"tracking": False, "search": search})
    a = automl_yaml.run(spec, quiet=True).leaderboard.sort_values("trial")
    b = automl_yaml.run(spec, quiet=True).leaderboard.sort_values("trial")
    cols = [c for c in a.columns if c.startswith("param.") or c in ("model", "accuracy_mean")]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))


def _journal_numbers(out: Path) -> list[int]:
    lines = (out / "search" / "trials.jsonl").read_text().splitlines()
    return [json.loads(line)["number"] for line in lines if json.loads(line).get("event") == "result"]


def test_resume_after_kill_runs_every_trial_once(tmp_path, small_spec):
    spec = small_spec(
        {
            "tracking": False,
            "models": {"random_forest": {"params": {"n_estimators": {"int": [60, 120]}}}},
            "search": {"strategy": "random", "budget": {"trials": 12}},
        }
    )
    out = tmp_path / "runs" / "small"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "automl_yaml", "run", str(spec), "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = out / "search" / "trials.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and len(_journal_numbers(out)) >= 3:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _journal_numbers(out)
    assert 3 <= len(done_before) < 12
    assert main(["run", str(spec), "--resume", "--quiet"]) == 0
    numbers = _journal_numbers(out)
    assert sorted(numbers) == list(range(12)), numbers  # none lost, none twice
    assert numbers[: len(done_before)] == done_before  # the finished ones were not run again
    board = pd.read_csv(out / "leaderboard.csv")
    assert sorted(board["trial"]) == list(range(12))


def test_resume_refuses_a_changed_spec(tmp_path, small_spec, capsys):
    spec = small_spec({"tracking": False})
    assert main(["run", str(spec), "--quiet"]) == 0
    assert main(["run", str(spec), "--resume", "--set", "search.cv.folds=4"]) == 2
    assert "the spec changed since the last run" in capsys.readouterr().err  # it was complete, not interrupted


def test_resume_without_a_previous_run(tmp_path, small_spec, capsys):
    spec = small_spec({"tracking": False})
    assert main(["run", str(spec), "--resume"]) == 2
    assert "no interrupted run" in capsys.readouterr().err


def test_ctrl_c_exits_130_with_a_resume_hint(tmp_path, small_spec):
    spec = small_spec({"tracking": False, "models": {"random_forest": {"params": {"n_estimators": {"int": [100, 200]}}}}, "search": {"budget": {"trials": 40}}})
    proc = subprocess.Popen([sys.executable, "-m", "automl_yaml", "run", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    journal = tmp_path / "runs" / "small" / "search" / "trials.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (journal.exists() and journal.read_text().count('"result"') >= 1):
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be interrupted:\n{proc.communicate()[1]}")
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err


def test_ctrl_c_after_the_search_prints_the_resume_command_and_no_trial_runs_again(tmp_path, small_spec, monkeypatch, capsys):
    """The search was done and kept, but only an interrupt during the search said how to continue."""
    from automl_yaml.runner import _Job

    spec = small_spec({"tracking": False, "search": {"budget": {"trials": 3}}})

    def ctrl_c(self, step):
        raise KeyboardInterrupt

    monkeypatch.setattr(_Job, "step_evaluate", ctrl_c)
    assert main(["run", str(spec)]) == 130
    err = capsys.readouterr().err
    line = next(ln.strip() for ln in err.splitlines() if ln.strip().startswith("mlx run "))
    assert line == f"mlx run {spec} --resume" and "interrupted. finished trials are kept; continue with:" in err
    monkeypatch.undo()
    assert main(shlex.split(line)[1:]) == 0
    journal = tmp_path / "runs" / "small" / "search" / "trials.jsonl"
    assert journal.read_text().count('"event":"result"') == 3


@pytest.mark.parametrize("group", [False, True], ids=["process", "group"])
def test_sigterm_stops_the_run_as_ctrl_c_does_and_resume_finishes(tmp_path, small_spec, group):
    """SIGTERM (what `docker stop`, `kill` and schedulers send), to the run's process alone or to its
    whole group (a scheduler's cancel): exit 130, the message and the resume command, no process of the
    run left, no trial recorded as failed, and that command finishes the search.
    It used to end the process at once: exit 143, nothing said."""
    models = {"random_forest": {"params": {"n_estimators": {"int": [60, 120]}}}}
    spec = small_spec({"tracking": False, "models": models, "search": {"budget": {"trials": 8}}, "execution": {"n_jobs": 2}})
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "automl_yaml", "run", str(spec), "--set", "search.budget.trials=8"]
    # its own session: every process the run starts (fork server, workers, side processes) can be found after
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    journal = tmp_path / "runs" / "small" / "search" / "trials.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (journal.exists() and journal.read_text().count('"result"') >= 1):
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be stopped:\n{proc.communicate()[1]}")
        time.sleep(0.1)
    if group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted (SIGTERM). finished trials are kept; continue with:" in err and "Traceback" not in err
    line = next(ln.strip() for ln in err.splitlines() if ln.strip().startswith("mlx run "))
    assert line == f"mlx run {spec} --set search.budget.trials=8 --resume"
    deadline = time.monotonic() + 30
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_processes(proc.pid) == [], "processes of the run were left behind"
    done = journal.read_text().count('"result"')
    assert 1 <= done < 8
    resumed = subprocess.run([sys.executable, "-m", "automl_yaml", *shlex.split(line)[1:]], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((tmp_path / "runs" / "small" / "summary.json").read_text())
    assert summary["trials"]["total"] == summary["trials"]["ok"] == 8  # the trials the signal cut ran again


@pytest.mark.parametrize(
    ("extra", "code", "needle"),
    [
        ({"data": {"target": "speces"}}, 2, "speces"),
        ({"data": {"drop": ["nope"]}}, 2, "nope"),
        ({"sources": {"penguins": "missing.csv"}}, 1, "missing.csv"),
        ({"search": {"metric": "rmse"}}, 2, "rmse"),
    ],
)
def test_data_errors_are_one_line(tmp_path, small_spec, capsys, extra, code, needle):
    spec = small_spec({"tracking": False, **extra})
    assert main(["run", str(spec)]) == code
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_every_trial_failing_is_a_runtime_error(tmp_path, small_spec, capsys):
    # multinomial naive Bayes refuses negative values, and the scaled features have some:
    # a failure only the data shows (mlx validate cannot see it)
    spec = small_spec({"tracking": False, "models": {"multinomial_nb": {"params": {"alpha": {"float": [0.1, 1.0]}}}}, "search": {"budget": {"trials": 2}}})
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "every trial failed" in err and "Traceback" not in err
    # one model failed them all: the error points at its entry in the spec
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1) if text.strip().startswith("multinomial_nb:"))
    assert f"error: {spec}:{line}:3: models.multinomial_nb: every trial failed (2 of 2)" in err


def test_every_trial_failing_over_several_models_names_no_model(tmp_path, small_spec, capsys):
    models = {"multinomial_nb": {"params": {"alpha": 0.5}}, "nb2": {"estimator": "multinomial_nb", "params": {"alpha": 0.1}}}
    spec = small_spec({"tracking": False, "models": models, "search": {"budget": {"trials": 2}}})
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: every trial failed") or "\nerror: every trial failed" in err
    assert "models." not in err.split("every trial failed")[0]


def test_a_failing_candidate_does_not_stop_the_search(tmp_path, small_spec):
    # multinomial naive Bayes refuses the scaled features' negative values: that model's trials fail, the others go on
    spec = small_spec(
        {
            "tracking": False,
            "models": {
                "bad": {"estimator": "multinomial_nb", "params": {"alpha": 0.5}},
                "good": {"estimator": "random_forest", "params": {"n_estimators": {"int": [5, 20]}}},
            },
            "search": {"strategy": "grid", "budget": {"trials": 17}},
        }
    )
    result = automl_yaml.run(spec, quiet=True)
    board = result.leaderboard
    assert (board["status"] == "failed").sum() == 1
    assert (board["status"] == "ok").sum() == 16
    failed = board[board["status"] == "failed"].iloc[0]
    assert failed["model"] == "bad" and "Negative values" in failed["error"]
    assert result.best_model == "good"


def test_permutation_importance_on_wide_data_permutes_only_the_related_columns():
    # 80 columns, the signal in two far down the frame and one categorical:
    # at most 50 columns are permuted (each costs n_repeats predictions), and
    # those the model uses are among them
    import numpy as np
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import get_scorer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from automl_yaml.report.run import feature_importance

    rng = np.random.default_rng(0)
    n, p = 400, 80
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"f{i}" for i in range(p)])
    X["kind"] = rng.choice(["a", "b", "c"], n)
    y = (X["f70"] - X["f75"] + 2 * (X["kind"] == "a") + rng.normal(0, 0.5, n) > 0.5).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["kind"]), remainder="passthrough"), LogisticRegression(max_iter=500)
    ).fit(X, y)
    fi = feature_importance(model, X, y, get_scorer("roc_auc"), seed=0)
    assert len(fi) == 50 and {"f70", "f75", "kind"} <= set(fi)
    assert set(sorted(fi, key=fi.get)[-3:]) == {"f70", "f75", "kind"}
    # narrow data: every column, as scikit-learn's permutation_importance gives
    narrow = feature_importance(model, X, y, get_scorer("roc_auc"), seed=0, max_columns=100)
    assert len(narrow) == p + 1


def test_an_svm_scored_by_log_loss_is_searched_and_refitted_with_probabilities(tmp_path, small_spec):
    # without probability=True every SVM trial failed ("Pipeline has none of the following
    # attributes: predict_proba"), and the refitted model had no held-out log_loss
    spec = small_spec({"tracking": False, "models": {"svm": {"params": {"C": {"float": [0.5, 2.0]}}}}, "search": {"metric": "log_loss", "budget": {"trials": 2}}})
    result = automl_yaml.run(spec, quiet=True)
    assert (result.leaderboard["status"] == "ok").all()
    summary = json.loads((Path(result.output_dir) / "summary.json").read_text())
    assert 0 < summary["holdout"]["log_loss"] < 1.1  # 3 classes: 1.1 is a uniform guess


def test_a_usage_error_found_on_the_data_is_located_at_its_field(tmp_path, small_spec, capsys):
    """The preprocessing checks its options against the data's columns, without the spec's file: the run adds file:line."""
    spec = small_spec({"tracking": False, "preprocess": {"columns": {"island": {"impute": "mean"}}}})
    assert main(["run", str(spec)]) == 2
    err = capsys.readouterr().err
    lines = spec.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip().startswith("impute: mean"))
    col = lines[line - 1].index("mean") + 1
    assert f"error: {spec}:{line}:{col}: preprocess.columns.island.impute: 'mean' needs numbers" in err and "Traceback" not in err
