"""The promotion gate's rule: first model, better, worse, tie, min_delta, direction, always/never, unscorable champion."""

import pytest

from automl_yaml.promote import decide
from automl_yaml.spec.models import PromoteRule


@pytest.mark.parametrize(
    ("rule", "champion_version", "challenger", "champion", "greater", "promote", "says"),
    [
        (PromoteRule(), None, 0.1, None, True, True, "first model"),
        (PromoteRule(), "3", 0.91, 0.90, True, True, "beats the champion"),
        (PromoteRule(), "3", 0.43, 0.99, True, False, "does not beat"),
        (PromoteRule(), "3", 0.90, 0.90, True, False, "does not beat"),  # a tie keeps the champion
        (PromoteRule(min_delta=0.002), "3", 0.901, 0.900, True, False, "more than 0.002"),
        (PromoteRule(min_delta=0.002), "3", 0.903, 0.900, True, True, "beats"),
        (PromoteRule(metric="rmse"), "3", 1.0, 2.0, False, True, "lower is better"),
        (PromoteRule(metric="rmse"), "3", 2.0, 1.0, False, False, "lower by more than 0"),
        ("always", "3", 0.1, 0.9, True, True, "always"),
        ("never", "3", 0.9, 0.1, True, False, "never"),
        ("never", None, 0.9, None, True, False, "never"),
    ],
)
def test_the_rule(rule, champion_version, challenger, champion, greater, promote, says):
    d = decide(rule, champion_version=champion_version, metric="m", greater_is_better=greater, challenger=challenger, champion=champion, rows=50)
    assert d.promote is promote and says in d.reason, d.reason


def test_a_champion_that_cannot_be_scored_keeps_the_alias():
    d = decide(PromoteRule(), champion_version="2", metric="accuracy", challenger=0.9, champion_error="column 'x' is missing")
    assert not d.promote and "could not be scored" in d.reason and "column 'x'" in d.reason


def test_a_score_that_is_not_a_number_does_not_promote():
    d = decide(PromoteRule(), champion_version="2", metric="r2", challenger=float("nan"), champion=0.5)
    assert not d.promote


# ----------------------------------------------------------------------------- end to end, real SQLite registry
import json  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402


def _data(path, seed=0, n=600):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    c = rng.choice(["a", "b"], n)
    pd.DataFrame({"x1": x1, "x2": x2, "c": c, "y": np.where(x1 + x2 > 0, "yes", "no")}).to_csv(path, index=False)


def _spec(root, name, *, weak=False, promote=None):
    spec = {
        "name": name,
        "sources": {"d": "data.csv"},
        "data": {"target": "y"},
        # weak: regularised until it predicts one class
        "models": {"logistic_regression": {"params": {"C": 1e-9}}} if weak else ["logistic_regression"],
        "search": {"strategy": "random", "budget": {"trials": 2}, "metric": "accuracy"},
        "tracking": {"uri": "sqlite:///mlflow.db", "register": "gated", **({"promote": promote} if promote is not None else {})},
        "execution": {"n_jobs": 1},
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _champion(root):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    return client, str(client.get_model_version_by_alias("gated", "champion").version)


def test_the_gate_promotes_the_first_and_a_better_model_and_keeps_the_champion_from_a_worse_one(cli, tmp_path):
    _data(tmp_path / "data.csv")
    r = cli("run", _spec(tmp_path, "weak", weak=True), "-q")
    assert r.code == 0, r
    summary = json.loads((tmp_path / "runs" / "weak" / "summary.json").read_text())
    assert summary["promotion"]["promote"] and "first model" in summary["promotion"]["reason"]
    assert _champion(tmp_path)[1] == "1"

    r = cli("run", _spec(tmp_path, "strong"))
    assert r.code == 0, r
    promotion = json.loads((tmp_path / "runs" / "strong" / "summary.json").read_text())["promotion"]
    assert promotion["promote"] and promotion["champion_version"] == "1" and promotion["challenger"] > promotion["champion"]
    assert "promoted: version 2 of gated is @champion — it beats the champion" in " ".join(r.err.split())
    client, version = _champion(tmp_path)
    assert version == "2" and client.get_model_version("gated", "2").tags["mlx.promotion"] == "promoted"

    r = cli("run", _spec(tmp_path, "weak2", weak=True))
    assert r.code == 0, r
    promotion = json.loads((tmp_path / "runs" / "weak2" / "summary.json").read_text())["promotion"]
    assert not promotion["promote"] and promotion["champion"] > promotion["challenger"] and promotion["rows"] == 120
    client, version = _champion(tmp_path)
    assert version == "2"  # the worse model did not take the alias
    loser = client.get_model_version_by_alias("gated", "challenger")
    assert str(loser.version) == "3" and loser.tags["mlx.promotion"] == "kept" and "does not beat" in loser.tags["mlx.promotion_reason"]
    assert "kept the champion: version 3 of gated is @challenger" in " ".join(r.err.split())


def test_always_and_never(cli, tmp_path):
    _data(tmp_path / "data.csv")
    assert cli("run", _spec(tmp_path, "strong"), "-q").code == 0
    assert cli("run", _spec(tmp_path, "weak", weak=True, promote="always"), "-q").code == 0
    assert _champion(tmp_path)[1] == "2"
    assert cli("run", _spec(tmp_path, "strong2", promote="never"), "-q").code == 0
    assert _champion(tmp_path)[1] == "2"


def test_challenge_names_the_champion_and_a_wrong_name_stops_before_training(cli, tmp_path):
    _data(tmp_path / "data.csv")
    assert cli("run", _spec(tmp_path, "strong"), "-q").code == 0
    r = cli("run", _spec(tmp_path, "weak", weak=True), "--challenge", "models:/gated@nope")
    assert r.code == 2 and "--challenge models:/gated@nope: no registered version has that alias" in r.err, r
    assert not (tmp_path / "runs" / "weak" / "search").exists()  # nothing was trained
    r = cli("run", _spec(tmp_path, "weak", weak=True), "--challenge", "models:/gated/1")
    assert r.code == 0 and "challenging models:/gated/1 (version 1)" in r.err, r
    assert not json.loads((tmp_path / "runs" / "weak" / "summary.json").read_text())["promotion"]["promote"]
    spec = yaml.safe_load(_spec(tmp_path, "untracked").read_text())
    spec["tracking"] = False
    (tmp_path / "untracked.yaml").write_text(yaml.safe_dump(spec))
    r = cli("run", tmp_path / "untracked.yaml", "--challenge", "models:/gated@champion")
    assert r.code == 2 and "--challenge needs a registered model" in r.err, r
