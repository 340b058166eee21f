"""Transform factories: the targets of the ``transforms`` registry.

The registry names transforms ``<kind>:<name>`` (``impute:median``,
``scale:robust``, ``encode:target``, ``outliers:iqr``) and every built-in name
of a kind points to one factory here. :func:`make_transform` looks a name up
and calls its factory as ``factory(name, **options)``; a plugin registers more
names with its own factory::

    def my_scalers(name, **options):          # must accept (and may ignore) any option
        return MyScaler()

    registry.transforms.register("scale:my_scaler", "my_plugin:my_scalers", kind="scale")

The options each kind receives are documented on its factory below. A factory
returns an unfitted scikit-learn transformer, or the string ``"passthrough"``
for "do nothing". Most are scikit-learn's own; the rest are in
:mod:`automl_yaml.preprocess.columnwise`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import registry as R
from ..errors import UsageError
from ..spec.semantic import NUMERIC_ONLY_IMPUTERS  # imputers that need numbers: one list, which mlx validate checks too
from .columnwise import BoundedOneHotEncoder, CategoryDtype, FoldQuantileTransformer, FrequencyEncoder, KeepEmptyKNNImputer, OutlierClipper
from .rows import OutlierRows

PASSTHROUGH = "passthrough"



def make_transform(kind: str, name: str, **options: Any):
    """The transformer registered as ``<kind>:<name>``, built with ``options``.

    Raises:
        UnknownComponentError: a :class:`~automl_yaml.errors.UsageError` with
            did-you-mean suggestions, for a name nobody registered.
    """
    from ..components import catalog  # noqa: F401 - registers the built-in names

    factory = R.transforms.get(f"{kind}:{name}").load()
    return factory(name, **options)


def impute(
    name: str, *, column_type: str = "numeric", fill_value: Any = None, missing_indicator: bool = False, seed: int | None = None, **_: Any
):
    """A missing-value imputer.

    Args:
        name: ``mean``, ``median``, ``most_frequent``, ``constant``, ``knn``,
            ``iterative``, ``drop`` or ``none``.
        column_type: ``numeric`` or ``categorical`` — the columns it will fill.
        fill_value: The value of ``constant``.
        missing_indicator: Also output a 0/1 column per column that had missing
            training values (``missingindicator_<column>``).
        seed: Seeds ``iterative``.

    ``drop`` removes *training* rows (see :mod:`automl_yaml.preprocess.rows`);
    what it returns here is the predict-time fallback — the training median
    (numeric) or most frequent value (categorical) — since a row to predict is
    never dropped. Columns entirely missing in a training fold are kept (filled
    with 0 / the fill value) so every fold yields the same columns.
    """
    from sklearn.impute import SimpleImputer

    if column_type != "numeric" and name in NUMERIC_ONLY_IMPUTERS:
        raise UsageError(f"impute '{name}' needs numbers and cannot fill {column_type} columns", hint="use most_frequent or constant")
    if name == "none":
        if not missing_indicator:
            return PASSTHROUGH
        from sklearn.impute import MissingIndicator
        from sklearn.pipeline import FeatureUnion

        return FeatureUnion([("values", PASSTHROUGH), ("indicator", MissingIndicator())], verbose_feature_names_out=False)
    if name == "drop":
        name = "median" if column_type == "numeric" else "most_frequent"
    if name in ("mean", "median", "most_frequent", "constant"):
        if name == "constant" and fill_value is None:
            fill_value = 0.0 if column_type == "numeric" else "missing"
        return SimpleImputer(
            strategy=name, fill_value=fill_value if name == "constant" else None, add_indicator=missing_indicator, keep_empty_features=True
        )
    if name == "knn":
        return KeepEmptyKNNImputer(add_indicator=missing_indicator, keep_empty_features=True)
    if name == "iterative":
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401 - the documented switch
        from sklearn.impute import IterativeImputer

        # keep_empty_features=True writes into a read-only view of pandas 3
        # (copy-on-write) input inside IterativeImputer (scikit-learn 1.9), so a
        # column entirely missing in a fold is dropped here, as scikit-learn does
        # by default.
        return IterativeImputer(random_state=seed, add_indicator=missing_indicator)
    raise UsageError(
        f"'{name}' is registered as an imputer but this factory does not build it", hint="its plugin must register its own factory"
    )


def scale(name: str, *, seed: int | None = None, **_: Any):
    """A scaler: ``standard``, ``minmax``, ``robust``, ``maxabs``, ``power``
    (Yeo-Johnson), ``quantile`` (normal output, ``n_quantiles`` capped by the
    fold size) or ``none``.

    Args:
        seed: Seeds ``quantile``'s subsampling.
    """
    from sklearn import preprocessing as P

    makers = {
        "standard": P.StandardScaler,
        "minmax": P.MinMaxScaler,
        "robust": P.RobustScaler,
        "maxabs": P.MaxAbsScaler,
        "power": lambda: P.PowerTransformer(method="yeo-johnson"),
        "quantile": lambda: FoldQuantileTransformer(output_distribution="normal", random_state=seed),
    }
    if name == "none":
        return PASSTHROUGH
    if name not in makers:
        raise UsageError(
            f"'{name}' is registered as a scaler but this factory does not build it", hint="its plugin must register its own factory"
        )
    return makers[name]()


def encode(
    name: str,
    *,
    task: str = "classification",
    max_categories: int | None = 20,
    min_frequency: float | int | None = None,
    seed: int | None = None,
    **_: Any,
):
    """A categorical encoder.

    Args:
        name: ``onehot`` (unseen categories: all zeros, or the infrequent
            column when there is one), ``ordinal`` (unseen and missing: -1),
            ``target`` (scikit-learn's cross-fitted ``TargetEncoder``: one column
            per class for a multiclass target), ``frequency`` (the training
            share; unseen: 0) or ``none`` (pandas ``category`` columns for models
            with native categorical support, see
            :class:`~automl_yaml.preprocess.columnwise.CategoryDtype`).
        task: ``classification`` or ``regression``: the target type of ``target``.
        max_categories: ``onehot`` / ``ordinal``: keep at most this many
            categories per column; the rarer ones share one.
        min_frequency: ``onehot`` / ``ordinal``: categories rarer than this
            share (or count) share one. ``target`` smooths rare categories
            towards the mean itself; ``frequency`` encodes rarity already.
        seed: Seeds ``target``'s cross-fitting folds.
    """
    from sklearn.preprocessing import OrdinalEncoder, TargetEncoder

    if name == "onehot":
        return BoundedOneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=max_categories,
            min_frequency=min_frequency,
            sparse_output=False,
            dtype=np.float64,
        )
    if name == "ordinal":
        return OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-1,
            max_categories=max_categories,
            min_frequency=min_frequency,
        )
    if name == "target":
        # y is already encoded: integer class codes, or floats for regression
        # (whose integral values "auto" would take for classes).
        # The cross-fitting folds are seeded through `cv` (scikit-learn 1.9
        # deprecates `shuffle` / `random_state`), stratified for classes as
        # TargetEncoder's own default is.
        from sklearn.model_selection import KFold, StratifiedKFold

        if task == "regression":
            return TargetEncoder(target_type="continuous", cv=KFold(5, shuffle=True, random_state=seed))
        return TargetEncoder(target_type="auto", cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    if name == "frequency":
        return FrequencyEncoder()
    if name == "none":
        return CategoryDtype()
    raise UsageError(
        f"'{name}' is registered as an encoder but this factory does not build it", hint="its plugin must register its own factory"
    )


def outliers(
    name: str,
    *,
    columns: tuple[str, ...] = (),
    factor: float | None = None,
    contamination: float | str = "auto",
    action: str = "clip",
    seed: int | None = None,
    **_: Any,
):
    """Outlier handling, learnt on the training fold.

    Args:
        name: ``iqr`` (``[Q1 - factor*IQR, Q3 + factor*IQR]``, factor 1.5),
            ``zscore`` (``mean ± factor*std``, factor 3),
            ``isolation_forest`` (drop only) or ``none``.
        columns: The columns (needed by ``action: drop``, which works on raw rows).
        action: ``clip`` returns a column transformer
            (:class:`~automl_yaml.preprocess.columnwise.OutlierClipper`);
            ``drop`` returns a row filter
            (:class:`~automl_yaml.preprocess.rows.OutlierRows`) that removes
            training rows only.
    """
    if name == "none":
        return PASSTHROUGH
    if name not in ("iqr", "zscore", "isolation_forest"):
        raise UsageError(
            f"'{name}' is registered as an outlier method but this factory does not build it",
            hint="its plugin must register its own factory",
        )
    if action == "drop":
        return OutlierRows(columns=tuple(columns), method=name, factor=factor, contamination=contamination, random_state=seed)
    if name == "isolation_forest":
        raise UsageError("isolation_forest flags rows, it has no bounds to clip to", hint="use `action: drop`")
    return OutlierClipper(method=name, factor=factor)
