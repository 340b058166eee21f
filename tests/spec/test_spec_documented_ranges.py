"""LightGBM's and XGBoost's parameter ranges (metadata.DOCUMENTED) are the ones their fits enforce.

They declare none as scikit-learn does, so ``mlx validate`` let ``num_leaves: 1``
through and every trial failed ("Check failed: (num_leaves) > (1)"). Each range
is checked here against a real fit on both sides of each bound.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings

import numpy as np
import pytest

from automl_yaml.components.metadata import DOCUMENTED, load

# Optional libraries: the ranges are checked where they are installed (CI has LightGBM;
# XGBoost pulls ~250 MB of CUDA libraries and is left out there).
CLASSES = {c: m for c, m in {"LGBMClassifier": "lightgbm", "XGBClassifier": "xgboost"}.items() if importlib.util.find_spec(m)}


def _cases():
    for cls_name, module in CLASSES.items():
        for param, constraints in DOCUMENTED[cls_name].items():
            interval = constraints[0]
            step = 1 if interval["type"] == "int" else 0.5
            left, right, closed = interval["left"], interval["right"], interval["closed"]
            left_in = closed in ("left", "both")
            yield pytest.param(module, cls_name, param, left - step if left_in else left, False, id=f"{cls_name}.{param}={left - step if left_in else left}")
            yield pytest.param(module, cls_name, param, left if left_in else left + step, True, id=f"{cls_name}.{param}={left if left_in else left + step}")
            if right is not None:
                yield pytest.param(module, cls_name, param, right + step, False, id=f"{cls_name}.{param}={right + step}")


@pytest.mark.parametrize(("module", "cls_name", "param", "value", "fits"), list(_cases()))
def test_a_range_is_what_the_fit_enforces(module, cls_name, param, value, fits):
    cls = getattr(importlib.import_module(module), cls_name)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(int)
    extra = {"verbose": -1} if module == "lightgbm" else {}
    if param == "subsample" and module == "lightgbm":
        extra["subsample_freq"] = 1  # LightGBM bags only with a frequency
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cls(**{param: value}, **extra).fit(X, y)
            ok = True
        except Exception:  # noqa: BLE001 - LightGBMError, XGBoostError, ValueError
            ok = False
    assert ok is fits, f"{cls_name}({param}={value!r}) {'failed' if fits else 'fitted'}"


@pytest.mark.parametrize("cls_name", sorted(c for c in DOCUMENTED if importlib.util.find_spec("lightgbm" if c.startswith("LGBM") else "xgboost")))
def test_the_packaged_metadata_carries_the_ranges(cls_name):
    params = load()["estimators"][cls_name]["params"]
    for name, constraints in DOCUMENTED[cls_name].items():
        assert params[name]["constraints"] == constraints, name
