"""Cross-validation inside the search: the splitter follows ``data.split.by``.

=============  ===================================  ==============================
split.by       classification                       regression
=============  ===================================  ==============================
random         ``StratifiedKFold``                  ``KFold``
(repeats > 1)  ``RepeatedStratifiedKFold``          ``RepeatedKFold``
group          ``StratifiedGroupKFold``             ``GroupKFold``
time           ``TimeSeriesSplit``                  ``TimeSeriesSplit``
=============  ===================================  ==============================

All are scikit-learn's own splitters; the only addition is :class:`RepeatedGroupSplit`,
because scikit-learn has no public repeated group k-fold.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    TimeSeriesSplit,
)

from ..errors import DataError, UsageError


class RepeatedGroupSplit:
    """Repeat a shuffling group splitter with another seed each time.

    Args:
        splitter: The class (``GroupKFold`` or ``StratifiedGroupKFold``).
        n_splits: Folds per repeat.
        n_repeats: How many times.
        random_state: The seed of the first repeat (then +1, +2, ...).
    """

    def __init__(self, splitter, *, n_splits: int, n_repeats: int, random_state: int):
        self.splitter = splitter
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def split(self, X, y=None, groups=None):
        for i in range(self.n_repeats):
            cv = self.splitter(n_splits=self.n_splits, shuffle=True, random_state=self.random_state + i)
            yield from cv.split(X, y, groups)

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits * self.n_repeats

    def __repr__(self) -> str:
        return (
            f"RepeatedGroupSplit({self.splitter.__name__}, n_splits={self.n_splits}, "
            f"n_repeats={self.n_repeats}, random_state={self.random_state})"
        )


def make_cv(cv_spec, split_by: str, task: str, seed: int, groups=None):
    """The scikit-learn splitter of ``search.cv`` for the data's split kind.

    Args:
        cv_spec: The spec's :class:`~automl_yaml.spec.models.CVSpec` (folds,
            repeats, shuffle).
        split_by: ``data.split.by``: ``random``, ``group`` or ``time``.
        task: ``classification`` (stratified folds) or ``regression``.
        seed: Seeds the shuffles.
        groups: The group labels (``split.by: group``), to check that there
            are enough groups for the folds.

    Raises:
        UsageError: ``repeats`` with a time split (its order cannot be reshuffled).
        DataError: fewer groups than folds.
    """
    folds, repeats, shuffle = cv_spec.folds, cv_spec.repeats, cv_spec.shuffle
    classification = task != "regression"
    rs = seed if shuffle else None
    if split_by == "time":
        if repeats > 1:
            raise UsageError(
                "search.cv.repeats needs folds that can be reshuffled, and a time split has one order",
                hint="remove search.cv.repeats (or use data.split.by: random)",
            )
        return TimeSeriesSplit(n_splits=folds)
    if split_by == "group":
        if groups is not None:
            n_groups = len(np.unique(np.asarray(groups)))
            if n_groups < folds:
                raise DataError(
                    f"the group split has {n_groups} groups, fewer than search.cv.folds ({folds})",
                    hint=f"set search.cv.folds to {max(2, n_groups)} or less",
                    usage=n_groups >= 2,
                )
        kind = StratifiedGroupKFold if classification else GroupKFold
        if repeats > 1:
            return RepeatedGroupSplit(kind, n_splits=folds, n_repeats=repeats, random_state=seed)
        return kind(n_splits=folds, shuffle=shuffle, random_state=rs)
    if split_by != "random":
        raise ValueError(f"split_by must be 'random', 'group' or 'time', but got {split_by!r}")
    if repeats > 1:
        kind = RepeatedStratifiedKFold if classification else RepeatedKFold
        return kind(n_splits=folds, n_repeats=repeats, random_state=seed)
    kind = StratifiedKFold if classification else KFold
    return kind(n_splits=folds, shuffle=shuffle, random_state=rs)
