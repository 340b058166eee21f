"""Top-level ``x-`` keys: blocks that only hold YAML anchors (docker compose's convention), ignored.

Other unknown keys stay errors; ``x-`` keys inside a section too.
"""

from __future__ import annotations

import json
import textwrap

import jsonschema

from automl_yaml.cli import main
from automl_yaml.spec import json_schema, load_spec
from automl_yaml.spec.loader import load_yaml

ANCHORED = """\
x-trees: &trees
  params:
    n_estimators: {int: [50, 300], log: true}
x-budget: &budget {trials: 7}
x-unused: {anything: [goes, here], path: "${MLX_TEST_SURELY_UNSET}"}
sources:
  d: {kind: sample, name: iris}
data: {target: target}
models:
  random_forest: *trees
  extra_trees:
    <<: *trees
    estimator: extra_trees
search:
  budget: *budget
tracking: false
"""

PLAIN = """\
sources:
  d: {kind: sample, name: iris}
data: {target: target}
models:
  random_forest:
    params:
      n_estimators: {int: [50, 300], log: true}
  extra_trees:
    estimator: extra_trees
    params:
      n_estimators: {int: [50, 300], log: true}
search:
  budget: {trials: 7}
tracking: false
"""


def write(tmp_path, text: str, name: str = "spec.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_x_keys_are_ignored_and_their_anchors_reused(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MLX_TEST_SURELY_UNSET", raising=False)  # an ignored block is not interpolated either
    path = write(tmp_path, ANCHORED)
    assert main(["validate", str(path)]) == 0
    loaded = load_spec(path)
    spec = loaded.spec
    assert spec.search.budget.trials == 7
    assert spec.models["extra_trees"].estimator == "extra_trees"
    assert spec.models["random_forest"].params == spec.models["extra_trees"].params  # '*' and '<<' alike
    assert not any(str(k).startswith("x-") for k in loaded.raw)  # not saved, logged or hashed


def test_the_same_spec_without_anchors_has_the_same_hash(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    anchored = load_spec(write(tmp_path / "a", ANCHORED))
    plain = load_spec(write(tmp_path / "b", PLAIN))
    assert anchored.spec_hash() == plain.spec_hash()


def test_x_keys_in_a_spec_mapping_are_ignored_too():
    loaded = load_spec({"x-note": {"a": 1}, "sources": {"d": {"kind": "sample", "name": "iris"}}, "data": {"target": "target"}})
    assert "x-note" not in loaded.raw


def test_other_unknown_top_level_keys_stay_errors(tmp_path, capsys):
    path = write(tmp_path, "x-ok: 1\ny-thing: 2\nxcommon: 3\nsources: {d: {kind: sample, name: iris}}\ndata: {target: target}\n")
    assert main(["validate", str(path), "--format", "json"]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    problems = json.loads(out.out)["problems"]
    assert [(p["path"], p["line"], p["col"]) for p in problems] == [("y-thing", 2, 1), ("xcommon", 3, 1)]


def test_set_cannot_add_an_x_key(tmp_path, capsys):
    path = write(tmp_path, ANCHORED)
    assert main(["validate", str(path), "--set", "x-budget.trials=3"]) == 2
    assert "x- keys only hold YAML anchors" in capsys.readouterr().err


def test_a_merge_key_that_is_not_a_mapping_is_located(tmp_path, capsys):
    path = write(tmp_path, "x-n: &n 5\nsources:\n  d:\n    <<: *n\n    kind: sample\n    name: iris\ndata: {target: target}\n")
    assert main(["validate", str(path), "--format", "json"]) == 2
    (p,) = json.loads(capsys.readouterr().out)["problems"]
    assert (p["path"], p["line"]) == ("sources.d", 4)
    assert p["message"].startswith("invalid merge key")


def test_the_schema_allows_x_keys_at_the_top_level_only():
    v = jsonschema.Draft202012Validator(json_schema())
    doc, _ = load_yaml(ANCHORED)
    assert [e.message for e in v.iter_errors(doc)] == []
    assert list(v.iter_errors({**doc, "y-thing": 1}))
    assert list(v.iter_errors({**doc, "data": {**doc["data"], "x-note": 1}}))


def test_an_anchor_block_inside_models_or_sources_points_to_the_top_level(tmp_path, capsys):
    path = write(
        tmp_path,
        "sources:\n  x-base: &b {kind: sample, name: iris}\n  d: *b\ndata: {target: target, from: d}\nmodels:\n  x-rf: &rf {params: {n_estimators: 5}}\n  random_forest: *rf\n",
    )
    assert main(["validate", str(path), "--format", "json"]) == 2
    problems = {p["path"]: p for p in json.loads(capsys.readouterr().out)["problems"]}
    model = problems["models.x-rf"]
    assert (model["severity"], model["line"], model["message"]) == ("error", 6, "'x-rf' is not a model name")
    assert "belongs at the top level" in model["hint"]
    source = problems["sources.x-base"]
    assert source["severity"] == "warning" and "belongs at the top level" in source["hint"]
