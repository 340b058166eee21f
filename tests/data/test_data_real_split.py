"""A group split on a column with missing values.

Rows without a group are one group (as the split already treated them), but
the groups given to the cross-validation were the raw values: text and NaN
cannot be sorted, and ``mlx run`` stopped with "internal error: TypeError:
'<' not supported between instances of 'str' and 'float'".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_yaml.data import split
from automl_yaml.spec import load_spec

N = 120


def grouped(values) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=N)
    return pd.DataFrame({"x": x, "grp": values, "y": np.where(x > 0, "p", "n")})


def spec_for(**split_spec):
    return load_spec(
        {"seed": 0, "sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y", "split": {"by": "group", "column": "grp", **split_spec}}}
    )


@pytest.mark.parametrize("stratify", [False, True])
def test_rows_without_a_group_are_one_group_given_as_codes(stratify):
    values = np.array([f"g{i % 8}" for i in range(N)], dtype=object)
    values[::10] = None
    ds = split(spec_for(stratify=stratify), grouped(values))
    assert ds.groups_train.dtype.kind == "i" and ds.groups_train.index.equals(ds.X_train.index)
    # same code <=> same group (missing with missing)
    raw = pd.Series(values).loc[ds.X_train.index].fillna("<missing>")
    assert (pd.factorize(raw)[0] == pd.factorize(ds.groups_train)[0]).all()
    assert "12 rows have no 'grp': they are one group, kept on one side of the split and of every fold" in ds.notes
    test_groups = set(pd.Series(values).loc[ds.X_test.index].fillna("<missing>"))
    assert not test_groups & set(raw)  # no group on both sides


def test_mixed_group_values_run_end_to_end(messy_run):
    values = np.array([i % 9 if i % 3 else f"team-{i % 5}" for i in range(N)], dtype=object)
    values[::11] = None
    run = messy_run(grouped(values), "y", spec={"data": {"split": {"by": "group", "column": "grp"}}})
    assert run.code == 0, run.err
    assert run.summary["trials"]["ok"] == 3 and run.summary["trials"]["failed"] == 0
