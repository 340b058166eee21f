"""Cross-validation inside the search: the splitter follows ``data.split.by``.

=============  ===================================  ==============================
split.by       classification                       regression
=============  ===================================  ==============================
random         ``StratifiedKFold``                  ``KFold``
(repeats > 1)  ``RepeatedStratifiedKFold``          ``RepeatedKFold``
group          ``StratifiedGroupKFold``             ``GroupKFold``
time           ``TimeSeriesSplit``                  ``TimeSeriesSplit``
=============  ===================================  ==============================

All are scikit-learn's own splitters; the additions are :class:`RepeatedGroupSplit`,
because scikit-learn has no public repeated group k-fold, and :class:`HoldoutSplit`.

When the spec leaves ``search.cv`` out, :func:`choose_validation` decides between
5-fold cross-validation and one holdout split from the data's size and the time
budget, with FLAML's rule; a spec that writes ``search.cv`` always gets its folds.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from sklearn.model_selection import (
    GroupKFold,
    GroupShuffleSplit,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
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


class HoldoutSplit:
    """One validation split of ``share`` of the training rows, of the kind ``data.split.by`` asks for.

    * ``random``: ``StratifiedShuffleSplit`` (classification) or ``ShuffleSplit``;
    * ``group``: one fold of ``StratifiedGroupKFold`` with ``round(1 / share)``
      folds (classification; scikit-learn has no stratified group shuffle
      split, as for the test split) or ``GroupShuffleSplit``;
    * ``time``: the latest rows (the training rows are in time order).

    The validation side holds at least one row of each class (classification:
    a rare class makes it larger than ``share``, up to half the rows) or two
    rows (regression: r2 needs two).

    Args:
        share: The share of the rows that validate (see :func:`holdout_share`).
        split_by: ``random``, ``group`` or ``time``.
        classification: Stratify.
        random_state: Seeds the shuffle.
    """

    def __init__(self, share: float, *, split_by: str, classification: bool, random_state: int):
        if split_by not in ("random", "group", "time"):
            raise ValueError(f"split_by must be 'random', 'group' or 'time', but got {split_by!r}")
        self.share = share
        self.split_by = split_by
        self.classification = classification
        self.random_state = random_state

    def _n_val(self, n: int, y) -> int:
        least = 2
        if self.classification and y is not None:
            # StratifiedShuffleSplit gives a class floor(n_val × its share) rows, or one more: a class
            # of c rows needs n_val >= n / c (at most half the rows, where a class of 2 rows has 1 on each side)
            least = min(math.ceil(n / int(np.unique(np.asarray(y), return_counts=True)[1].min())), n // 2)
        return max(1, min(max(math.ceil(self.share * n), least), n - 1))

    def split(self, X, y=None, groups=None):
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        n_val = self._n_val(n, y)
        if self.split_by == "time":
            yield np.arange(n - n_val), np.arange(n - n_val, n)
            return
        if self.split_by == "group":
            if self.classification:
                import warnings

                n_groups = len(np.unique(np.asarray(groups)))
                k = max(2, min(round(1 / self.share), n_groups))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "The least populated class in y has only 1 members"
                    yield next(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=self.random_state).split(X, y, groups))
                return
            yield next(GroupShuffleSplit(n_splits=1, test_size=self.share, random_state=self.random_state).split(X, y, groups))
            return
        kind = StratifiedShuffleSplit if self.classification else ShuffleSplit
        yield next(kind(n_splits=1, test_size=n_val, random_state=self.random_state).split(X, y))

    def get_n_splits(self, X=None, y=None, groups=None):
        return 1

    def __repr__(self) -> str:
        return f"HoldoutSplit(share={self.share:g}, split_by={self.split_by!r}, classification={self.classification}, random_state={self.random_state})"


# ------------------------------------------------------------------------ the rule

# FLAML's rule, AutoML._decide_eval_method in flaml/automl/automl.py with its constants
# from flaml/config.py (SMALL_LARGE_THRES = 10000000, CV_HOLDOUT_THRESHOLD = 100000):
#     cv if time_budget < 0 or (nrow * dim / 0.9 < SMALL_LARGE_THRES * (time_budget / 3600)
#                                and nrow < CV_HOLDOUT_THRESHOLD) else holdout
# The numbers are FLAML's as they are, not tuned here.
SMALL_LARGE_THRES = 10_000_000
CV_HOLDOUT_THRESHOLD = 100_000
_FLAML_SHARE = 0.9  # FLAML's rule divides rows x columns by 0.9


def cv_cell_limit(time_budget: float) -> float:
    """Rows × features below which FLAML's rule cross-validates in ``time_budget`` seconds (2,500 a second)."""
    return SMALL_LARGE_THRES * _FLAML_SHARE * (time_budget / 3600)


def holdout_share(n_rows: int) -> float:
    """The share of the training rows a holdout validates on: AutoGluon's ``default_holdout_frac``.

    ``default_holdout_frac(n_rows, hyperparameter_tune=True)`` from
    autogluon/core/utils/utils.py, as it is: 10-20% below 5,000 rows, then
    2,500 rows ("a stable 2500 examples") but 1-10%, doubled for a
    hyperparameter search "to avoid overfitting" and at most 20%. So 20% up to
    25,000 rows, 5,000 rows up to 250,000, then 2%.
    """
    n = max(int(n_rows), 1)
    share = max(0.1, min(0.2, 500.0 / n)) if n < 5000 else max(0.01, min(0.1, 2500.0 / n))
    return min(0.2, share * 2)


@dataclasses.dataclass(frozen=True)
class Validation:
    """How the search scores a trial, and why.

    Attributes:
        method: ``cv`` (k-fold cross-validation) or ``holdout`` (one split).
        folds: The folds of one repeat (1 for a holdout).
        repeats: ``search.cv.repeats`` (1 for a holdout).
        share: The holdout's share of the training rows (None for cv).
        reason: Why, in words (shown by ``mlx plan``, the run and summary.json).
        chosen_by: ``spec`` (the spec writes ``search.cv``) or ``rule``
            (:func:`choose_validation`).
    """

    method: str
    folds: int
    repeats: int
    share: float | None
    reason: str
    chosen_by: str

    @property
    def splits(self) -> int:
        """Model fits per trial."""
        return self.folds * self.repeats

    def describe(self) -> str:
        if self.method == "holdout":
            return f"holdout ({self.share:.0%} of the training rows)"
        return f"{self.folds}-fold CV" + (f" × {self.repeats} repeats" if self.repeats > 1 else "")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "description": self.describe()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Validation:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)})


def _seconds(s: float) -> str:
    return f"{s / 3600:g}h" if s >= 3600 else f"{s / 60:g}m" if s >= 60 else f"{s:g}s"


def choose_validation(search: Any, n_rows: int, n_cols: int) -> Validation:
    """Cross-validation or a holdout split, from the data's size and the time budget.

    The spec's ``search.cv`` wins whenever the spec writes it (even ``cv: {}``).
    Else FLAML's rule (see the constants above), with ``n_rows`` training rows
    and ``n_cols`` feature columns (before encoding):

    * 100,000 training rows or more: a holdout (FLAML's ``CV_HOLDOUT_THRESHOLD``;
      mlx applies it without a time budget too, where FLAML would
      cross-validate: a trial budget fixes the number of trials, and 5 folds
      make each one 5 fits where a holdout of thousands of rows is stable);
    * with ``search.budget.time``: 5-fold CV while rows × features is below
      2,500 a second of the budget (``SMALL_LARGE_THRES × 0.9 / 3600``), so
      75,000 for 30 s, 9 million for an hour; a holdout above;
    * without a time budget (a trial budget only): 5-fold CV, as FLAML's rule
      says with no time limit. Neither FLAML nor AutoGluon has a rule on a
      trial count, and none is made up here.

    The holdout's size is AutoGluon's (:func:`holdout_share`); its kind
    follows ``data.split`` (:class:`HoldoutSplit`). The same spec and data
    always give the same choice.

    Args:
        search: The spec's search section (``cv``, ``budget``).
        n_rows: Training rows.
        n_cols: Feature columns.
    """
    cv = search.cv
    if "cv" in search.model_fields_set:
        return Validation("cv", cv.folds, cv.repeats, None, "search.cv is set in the spec", "spec")
    cells = n_rows * n_cols
    size = f"{n_rows:,} training rows × {n_cols:,} feature{'' if n_cols == 1 else 's'}"
    folds = cv.folds

    def holdout(why: str) -> Validation:
        share = holdout_share(n_rows)
        return Validation("holdout", 1, 1, share, f"{why}; the holdout's share is AutoGluon's", "rule")

    if n_rows >= CV_HOLDOUT_THRESHOLD:
        return holdout(f"{n_rows:,} training rows, {CV_HOLDOUT_THRESHOLD:,} or more: one holdout split instead of {folds} fits a trial (FLAML's rule)")
    time_budget = search.budget.time
    if time_budget is None:
        return Validation("cv", folds, cv.repeats, None, f"no time budget and {n_rows:,} training rows, fewer than {CV_HOLDOUT_THRESHOLD:,} (FLAML's rule)", "rule")
    limit = cv_cell_limit(time_budget)
    rule = f"FLAML's rule: cross-validation below {limit:,.0f} for {_seconds(time_budget)}"
    if cells / _FLAML_SHARE < SMALL_LARGE_THRES * (time_budget / 3600):
        return Validation("cv", folds, cv.repeats, None, f"{size} = {cells:,} values, small for the time budget ({rule})", "rule")
    return holdout(f"{size} = {cells:,} values, large for the time budget ({rule})")


def describe_rule(search: Any) -> Validation | str:
    """What :func:`choose_validation` will do before the data is known (``mlx plan``): the choice, or the rule in words."""
    if "cv" in search.model_fields_set:
        return choose_validation(search, 0, 0)
    folds, t = search.cv.folds, search.budget.time
    if t is None:
        return f"{folds}-fold CV below {CV_HOLDOUT_THRESHOLD:,} training rows, else a holdout (FLAML's rule; set search.cv to choose)"
    return (
        f"{folds}-fold CV if training rows × features < {cv_cell_limit(t):,.0f} (for {_seconds(t)}) and rows < {CV_HOLDOUT_THRESHOLD:,}, "
        f"else a holdout (FLAML's rule; set search.cv to choose)"
    )


def make_cv(cv_spec, split_by: str, task: str, seed: int, groups=None, validation: Validation | None = None):
    """The scikit-learn splitter of ``search.cv`` for the data's split kind.

    Args:
        cv_spec: The spec's :class:`~automl_yaml.spec.models.CVSpec` (folds,
            repeats, shuffle).
        split_by: ``data.split.by``: ``random``, ``group`` or ``time``.
        task: ``classification`` (stratified folds) or ``regression``.
        seed: Seeds the shuffles.
        groups: The group labels (``split.by: group``), to check that there
            are enough groups for the folds.
        validation: The :func:`choose_validation` choice; a holdout gives a
            :class:`HoldoutSplit` (``cv_spec`` then does not count).

    Raises:
        UsageError: ``repeats`` with a time split (its order cannot be reshuffled).
        DataError: fewer groups than folds.
    """
    folds, repeats, shuffle = cv_spec.folds, cv_spec.repeats, cv_spec.shuffle
    classification = task != "regression"
    if validation is not None and validation.method == "holdout":
        if split_by == "group" and groups is not None and len(np.unique(np.asarray(groups))) < 2:
            raise DataError("the group split's training set has 1 group: a holdout needs 2", hint="use a column with more groups", usage=False)
        return HoldoutSplit(validation.share, split_by=split_by, classification=classification, random_state=seed)
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
