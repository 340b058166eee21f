"""Hand-typed class labels: spaces around them, and labels that differ only in case.

A survey export with ``"yes "`` and ``" yes"`` among ``"yes"`` had a class
for each spelling, a few rows each: the model was scored on telling ``yes``
from ``yes ``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl_yaml.data import split
from automl_yaml.spec import load_spec

N = 120


def spec_for(data: dict):
    return load_spec({"seed": 0, "sources": {"main": "main.csv"}, "data": {"from": "main", **data}, "search": {"cv": {"folds": 3}}})


def labelled(labels: list) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=len(labels)), "y": labels})


def test_spaces_around_labels_are_removed_with_a_note():
    labels = (["yes", "no"] * (N // 2))[: N - 4] + ["yes ", " yes", "\tno", "   "]
    ds = split(spec_for({"target": "y"}), labelled(labels))
    assert ds.classes == ["no", "yes"]
    assert len(ds.y_train) + len(ds.y_test) == N - 1  # "   " is no label: a missing target, dropped
    assert (ds.frame["y"].dropna() == ds.frame["y"].dropna().str.strip()).all()
    assert "4 labels of the target 'y' had spaces around them (e.g. 'yes '): the spaces are removed" in ds.notes
    assert "1 row with a missing target 'y' was dropped" in ds.notes


def test_labels_differing_only_in_case_are_said_and_kept_apart():
    labels = ["Yes", "No"] * (N // 4) + ["yes", "no"] * (N // 4)
    ds = split(spec_for({"target": "y"}), labelled(labels))
    assert ds.classes == ["No", "Yes", "no", "yes"]
    assert any(
        n.startswith("labels of the target 'y' differ only in case: 'No' and 'no'; 'Yes' and 'yes': they are different classes") for n in ds.notes
    ), ds.notes


def test_clean_labels_and_numeric_targets_get_no_note():
    ds = split(spec_for({"target": "y"}), labelled(["a", "b", "c"] * (N // 3)))
    assert ds.classes == ["a", "b", "c"]
    assert not any("labels of the target" in n for n in ds.notes)
    ds = split(spec_for({"target": "y"}), labelled(list(np.arange(N) * 0.5)))
    assert ds.task == "regression" and not any("labels of the target" in n for n in ds.notes)


def test_an_empty_target_is_located_at_data_target(tmp_path, capsys):
    from automl_yaml.cli import main
    from automl_yaml.errors import EXIT_RUNTIME

    rows = "".join(f"{i},{'inf' if i % 2 else ''}\n" for i in range(30))
    for name, values in (("empty", "".join(f"{i},\n" for i in range(30))), ("infinite", rows)):
        (tmp_path / f"{name}.csv").write_text("x,y\n" + values)
        (tmp_path / f"{name}.yaml").write_text(f"sources: {{d: {name}.csv}}\ndata:\n  target: y\ntracking: false\n")
        assert main(["run", str(tmp_path / f"{name}.yaml"), "-q"]) == EXIT_RUNTIME
        err = capsys.readouterr().err
        what = "has no values (all 30 rows are empty)" if name == "empty" else "has no finite values"
        assert f"{name}.yaml:3:11: data.target: the target 'y' {what}" in err, err
        assert "Traceback" not in err
