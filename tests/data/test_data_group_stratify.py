"""``data.split: {by: group, stratify: true}``: no group on both sides, and the class shares kept.

scikit-learn has no stratified group *shuffle* split; the held-out test set is
one fold of ``StratifiedGroupKFold`` (k = round(1 / test_size)). Left unset,
a group split stays a ``GroupShuffleSplit`` (the exact test share), as before.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from automl_yaml.data import build_dataset
from automl_yaml.errors import EXIT_USAGE, DataError
from automl_yaml.spec import load_spec

# 40 groups of 5 rows; every fifth group is of the rare class 'b' (20 % of rows)
GROUPS = np.repeat(np.arange(40), 5)
LABELS = np.where(GROUPS % 5 == 0, "b", "a")


def spec(tmp_path, split: str, *, target: str = "y", seed: int = 0):
    rng = np.random.default_rng(0)
    pd.DataFrame({"g": GROUPS, "x": rng.normal(size=len(GROUPS)), "y": LABELS}).to_csv(tmp_path / "d.csv", index=False)
    path = tmp_path / "spec.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            seed: {seed}
            sources: {{d: d.csv}}
            data:
              target: {target}
              split: {split}
            search: {{cv: {{folds: 3}}}}
            tracking: false
            """
        )
    )
    return load_spec(path)


@pytest.mark.parametrize("seed", range(6))
def test_a_stratified_group_split_keeps_groups_apart_and_class_shares(tmp_path, seed):
    ds = build_dataset(spec(tmp_path, "{by: group, column: g, stratify: true}", seed=seed), cache=False)
    train_groups = set(ds.frame.loc[ds.X_train.index, "g"])
    test_groups = set(ds.frame.loc[ds.X_test.index, "g"])
    assert not train_groups & test_groups
    rare = ds.classes.index("b")
    # a group shuffle split puts 0 % or 50 % of 'b' in the test set for some of these seeds
    assert 0.1 <= float((ds.y_test == rare).mean()) <= 0.3
    assert len(ds.X_test) == 40  # one fold of 5: test_size 0.2
    assert any("stratified: one fold of 5 (StratifiedGroupKFold)" in n for n in ds.notes)


def test_an_unstratified_group_split_is_unchanged(tmp_path):
    ds = build_dataset(spec(tmp_path, "{by: group, column: g}"), cache=False)
    assert not any("StratifiedGroupKFold" in n for n in ds.notes)
    assert len(ds.X_test) == 40


def test_a_stratified_group_split_of_a_regression_target_is_a_located_error(tmp_path):
    loaded = spec(tmp_path, "{by: group, column: g, stratify: true}", target="x")  # the task is inferred: regression
    with pytest.raises(DataError) as info:
        build_dataset(loaded, cache=False)
    assert info.value.message.startswith(f"{tmp_path / 'spec.yaml'}:5:43: data.split.stratify: a regression target cannot be stratified")
    assert info.value.exit_code == EXIT_USAGE


def test_too_few_groups_for_the_stratified_test_fold(tmp_path):
    loaded = spec(tmp_path, "{by: group, column: g, stratify: true, test_size: 0.01}")  # one fold of 100 needs 100 groups
    with pytest.raises(DataError, match=r"data.split.test_size: a stratified group split with test_size 0.01 needs 100 groups of 'g', and there are 40"):
        build_dataset(loaded, cache=False)
