"""Grid and random search: fixed sequences of configurations.

Both wrap scikit-learn's own samplers thinly: :class:`GridSearcher` walks
``ParameterGrid(space.grids())`` (one grid per model, so a model's params only
combine with that model) and :class:`RandomSearcher` draws from
``ParameterSampler(space.distributions())`` (log scales included). Neither
learns from results, so trial ``n`` is always the ``n``-th configuration of the
sequence: runs are reproducible, parallel runs evaluate the same set, and a
resumed run knows exactly which configurations are left.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from sklearn.model_selection import ParameterGrid, ParameterSampler

from ..errors import SearchError, UsageError
from ..spec.loader import dotted
from ..spec.models import GridOptions, RandomOptions
from .base import Searcher, Trial, TrialResult, config_key, plain

# Consecutive duplicate draws after which a finite space is taken as nearly
# exhausted and the rest is enumerated instead of drawn (coupon collector).
_MAX_MISSES = 200


class _SequenceSearcher(Searcher):
    """Trial ``n`` is configuration ``n`` of a deterministic sequence."""

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        self._seq: list[dict] = []
        self._source: Iterator[dict] | None = None
        self._done: set[int] = set()
        self._out: set[int] = set()
        self._cursor = 0

    def _sequence(self) -> Iterator[dict]:
        raise NotImplementedError

    def _config(self, n: int) -> dict | None:
        if self._source is None:
            self._source = self._sequence()
        while len(self._seq) <= n:
            nxt = next(self._source, None)
            if nxt is None:
                return None
            self._seq.append(self.space.complete({k: plain(v) for k, v in nxt.items()}))
        return self._seq[n]

    def ask(self) -> Trial | None:
        while True:
            n = self._cursor
            if self.budget_trials is not None and n >= self.budget_trials:
                return None
            config = self._config(n)
            if config is None:
                return None
            self._cursor += 1
            if n in self._done or n in self._out:
                continue
            self._out.add(n)
            return Trial(n, dict(config))

    def size(self) -> int | None:
        # Trial n is configuration n of a sequence without repeats.
        return self.space.size()

    def tell(self, trial: Trial, result: TrialResult) -> None:
        self._out.discard(trial.number)
        self._done.add(trial.number)

    def restore(self, results: list[TrialResult], pending: Sequence[Trial] = ()) -> None:
        for r in results:
            expected = self._config(r.number)
            if expected is None or config_key(expected) != config_key(r.config):
                raise SearchError(
                    f"trial {r.number} of the journal does not match this search space and seed",
                    hint="the spec changed since that run: start afresh (without resume) or use another output folder",
                )
            self._done.add(r.number)
        # Pending trials are not done: the walk from 0 hands them out again
        # with their own numbers before any new configuration.


class GridSearcher(_SequenceSearcher):
    """Every combination of the discrete search space, in ``ParameterGrid`` order.

    Raises:
        UsageError: naming a continuous dimension (a grid needs finite lists).
    """

    options_model = GridOptions

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        continuous = space.continuous()
        if continuous:
            d = continuous[0]
            where = dotted(d.path) if d.path else d.name
            raise UsageError(
                f"the grid strategy needs discrete values, but '{where}' is a continuous range ({d.describe()})",
                hint="give the range a `step`, list values with `choice`, or use search.strategy: random or optuna",
            )
        self.grid = ParameterGrid(space.grids())

    def __len__(self) -> int:
        return len(self.grid)

    def size(self) -> int:
        return len(self.grid)

    def _sequence(self) -> Iterator[dict]:
        return iter(self.grid)


class RandomSearcher(_SequenceSearcher):
    """Seeded random configurations with ``ParameterSampler`` semantics.

    A model is drawn uniformly, then each of its dimensions from its
    distribution (log-uniform for ``log: true``). When the space is finite no
    configuration repeats: an all-list space is sampled without replacement
    (as scikit-learn does), and other finite spaces drop repeated draws.
    """

    options_model = RandomOptions

    def _sequence(self) -> Iterator[dict]:
        size = self.space.size()
        dists = self.space.distributions()
        if size is not None and all(isinstance(v, list) for d in dists for v in d.values()):
            yield from ParameterSampler(dists, n_iter=size, random_state=self.seed)
            return
        seen: set[str] = set()
        misses = 0
        for params in ParameterSampler(dists, n_iter=2**62, random_state=self.seed):
            config = self.space.complete({k: plain(v) for k, v in params.items()})
            key = config_key(config)
            if key in seen:
                misses += 1
                if size is not None and (len(seen) >= size or misses > _MAX_MISSES):
                    break
                continue
            misses = 0
            seen.add(key)
            yield config
        # A finite space whose draws keep repeating: enumerate what is left,
        # in a seeded order.
        rest = [c for c in ParameterGrid(self.space.grids()) if config_key(self.space.complete(c)) not in seen]
        random.Random(self.seed).shuffle(rest)
        yield from rest
