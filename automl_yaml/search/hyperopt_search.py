"""The ``hyperopt`` strategy: Hyperopt's TPE (``tpe.suggest``), ``anneal`` or ``rand``, behind ask/tell.

Hyperopt is driven the way ``fmin`` drives it, without ``fmin``: each
:meth:`HyperoptSearcher.ask` calls the algorithm as ``algo(new_ids, domain,
trials, seed)`` for one new trial document, and the driver evaluates the
configuration it stands for; :meth:`HyperoptSearcher.tell` writes the result
into that document (``{"status": "ok", "loss": ...}``, or ``"fail"``). Trials
still out (parallel workers) are in ``trials`` without a loss, which
Hyperopt's algorithms count as an infinite loss, as with its own parallel
workers. Each trial number has its own seed (from the spec's ``seed``): a
sequential run repeats exactly.

The space (:func:`hyperopt_space`) is one ``hp`` expression: the model is an
``hp.choice`` whose options hold each model's own parameters (a conditional
space: a model's labels have values only in the trials that chose it); the
shared preprocessing and selection dimensions sit beside it. Each
:class:`~automl_yaml.search.space.Dim` is one label, named like the
dimension:

* a choice (any YAML values): ``hp.choice(name, [0, 1, ...])``, the value
  ``choices[index]``;
* an int, or an int or float with a step: ``hp.quniform(name, -0.5, n - 0.5, 1)``
  over the index of the n values, the value ``low + index * step`` (every
  value as likely, the ends included);
* an int on a log scale: ``hp.loguniform(name, ln low, ln(high + 1))``, the
  value ``floor(x)``;
* a float: ``hp.uniform(name, low, high)``; on a log scale
  ``hp.loguniform(name, ln low, ln high)``.

Choices are indices (any YAML value, a list or a mapping included, is one
option, never a nested space). A float range with ``low == high`` is a constant.

The first trials are the models' default configurations, cheapest model first
(as the Optuna strategies do); their dimensions without a default are drawn
from the prior. The driver's trial journal is the one source of truth: on
resume, ``trials`` is rebuilt from it.

Hyperopt optimises one loss: with several metrics, the first one steers the
search (the Pareto front of what ran is still reported).
"""

from __future__ import annotations

import collections
import functools
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import HYPEROPT_PIP, MissingDependencyError
from ..spec.models import HyperoptOptions
from .base import Searcher, Trial, TrialResult, config_key
from .space import MODEL, Dim, SearchSpace, label


def _hyperopt():
    try:
        import hyperopt
    except ImportError as e:
        raise MissingDependencyError("hyperopt", extra="hyperopt", purpose="the hyperopt strategy", pip=HYPEROPT_PIP) from e
    # Hyperopt logs at INFO as it builds its posterior; the runner reports trials itself.
    for name in ("hyperopt", "hyperopt.tpe", "hyperopt.fmin"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    return hyperopt


class _Codec:
    """One dimension as one Hyperopt label, and its values to and fro (``raw``: what Hyperopt stores)."""

    def __init__(self, d: Dim):
        self.dim = d
        self.constant = d.kind == "float" and d.low == d.high
        self.indexed = d.kind != "categorical" and not d.log and (d.kind == "int" or d.step is not None)

    def expr(self, hp) -> Any:
        d = self.dim
        if self.constant:
            return None
        if d.kind == "categorical":
            return hp.choice(d.name, list(range(len(d.choices))))
        if self.indexed:
            return hp.quniform(d.name, -0.5, d.size() - 0.5, 1)
        if d.log:
            return hp.loguniform(d.name, math.log(d.low), math.log(d.high + 1 if d.kind == "int" else d.high))
        return hp.uniform(d.name, float(d.low), float(d.high))

    def decode(self, raw: Any) -> Any:
        d = self.dim
        if self.constant:
            return float(d.low)
        if d.kind == "categorical":
            return d.choices[min(max(int(round(raw)), 0), len(d.choices) - 1)]
        if self.indexed:
            k = min(max(int(round(raw)), 0), d.size() - 1)
            if d.kind == "int":
                return int(d.low) + k * int(d.step or 1)
            return float(min(round(d.low + k * d.step, 12), d.high))
        if d.kind == "int":  # log
            return int(min(max(math.floor(raw), int(d.low)), int(d.high)))
        return float(min(max(float(raw), d.low), d.high))

    def encode(self, value: Any) -> Any:
        """The raw value that decodes to ``value`` (None for a constant)."""
        d = self.dim
        if self.constant:
            return None
        if d.kind == "categorical":
            return d.labels().index(label(value))
        if self.indexed:
            return float(round((value - d.low) / (d.step or 1)))
        if d.kind == "int":  # log: the middle of [value, value + 1)
            return float(value) + 0.5
        return float(value)


def hyperopt_space(space: SearchSpace, hp=None) -> dict:
    """The ``hp`` expression of a search space (a dict: the model choice, then the shared dimensions)."""
    hp = hp or _hyperopt().hp
    codecs = {d.name: _Codec(d) for d in space.dims()}

    def exprs(dims) -> dict:
        return {d.name: e for d in dims if (e := codecs[d.name].expr(hp)) is not None}

    if space.model_dim is not None:
        out = {MODEL: hp.choice(MODEL, [exprs(m.dims) for m in space.models.values()])}
    else:
        out = exprs(next(iter(space.models.values())).dims)
    out.update(exprs(space.shared))
    return out


class HyperoptSearcher(Searcher):
    """Hyperopt's ``tpe.suggest`` (default), ``anneal.suggest`` or ``rand.suggest``, asked one trial at a time."""

    options_model = HyperoptOptions

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        hyperopt = _hyperopt()
        self._ho = hyperopt
        self._codecs = {d.name: _Codec(d) for d in space.dims()}
        self.expr = hyperopt_space(space, hyperopt.hp)
        self.domain = hyperopt.Domain(_never_called, self.expr)
        self.algo = self._make_algo()
        self.trials = hyperopt.Trials()
        self._docs: dict[int, dict] = {}  # trial number (Hyperopt's tid) -> its document while out
        self._redo: collections.deque[Trial] = collections.deque()
        self._next = 0
        # A finite space is exhausted once every configuration was proposed
        # (the algorithms repeat themselves in small discrete spaces).
        self._size = space.size()
        self._seen: set[str] = set()
        self.starts = space.starting_points()

    def _make_algo(self):
        o, ho = self.options, self._ho
        if o.algorithm == "tpe":
            return functools.partial(ho.tpe.suggest, n_startup_jobs=o.n_startup_trials, verbose=False)
        if o.algorithm == "anneal":
            return ho.anneal.suggest
        if o.algorithm == "rand":
            return ho.rand.suggest
        raise ValueError(f"unknown Hyperopt algorithm {o.algorithm!r}")

    def _seed(self, number: int) -> int:
        # One seed per trial number: a run repeats, and a resumed one goes on as the numbers do.
        return int(np.random.SeedSequence([self.seed, number]).generate_state(1)[0])

    # ------------------------------------------------------------ configurations <-> documents
    def to_config(self, vals: dict) -> dict:
        """The configuration of a document's ``misc.vals`` (label -> [value] when active, [] when not)."""
        got = {k: v[0] for k, v in vals.items() if len(v)}
        config: dict = {}
        if self.space.model_dim is not None:
            config[MODEL] = self.space.model_dim.choices[int(got[MODEL])]
        model = config.get(MODEL) or next(iter(self.space.models))
        for d in self.space.active_dims(model):
            c = self._codecs[d.name]
            config[d.name] = c.decode(None if c.constant else got[d.name])
        return self.space.complete(config)

    def to_vals(self, config: dict) -> dict:
        """The inverse of :meth:`to_config`: ``misc.vals`` for every label of the domain."""
        vals: dict[str, list] = {name: [] for name in self.domain.params}
        model_dim = self.space.model_dim
        if model_dim is not None:
            vals[MODEL] = [list(model_dim.choices).index(config[MODEL])]
        for name, value in config.items():
            if name != MODEL and name in vals:
                vals[name] = [self._codecs[name].encode(value)]
        return vals

    def _doc(self, number: int, vals: dict) -> dict:
        misc = {"tid": number, "cmd": self.domain.cmd, "workdir": self.domain.workdir}
        misc["idxs"] = {k: ([number] if v else []) for k, v in vals.items()}
        misc["vals"] = vals
        (doc,) = self.trials.new_trial_docs([number], [None], [self.domain.new_result()], [misc])
        return doc

    def _insert(self, doc: dict, *, result: dict | None = None) -> dict:
        ho = self._ho
        if result is None:
            doc["state"] = ho.JOB_STATE_RUNNING
        else:
            doc["state"], doc["result"] = ho.JOB_STATE_DONE, result
        self.trials.insert_trial_docs([doc])
        self.trials.refresh()
        return self.trials.trials[-1]  # the stored copy (insert_trial_docs copies)

    def _start(self, number: int, start: dict) -> dict:
        """A model's default configuration, its dimensions without a default drawn from the prior."""
        from hyperopt.pyll import stochastic

        rng = np.random.default_rng(self._seed(number))
        model = start.get(MODEL) or next(iter(self.space.models))
        config = dict(start)
        for d in self.space.active_dims(model):
            c = self._codecs[d.name]
            if d.name not in config and not c.constant:
                config[d.name] = c.decode(stochastic.sample(c.expr(self._ho.hp), rng=rng))
        return self._doc(number, self.to_vals(self.space.complete(config)))

    # ------------------------------------------------------------ ask / tell
    def ask(self) -> Trial | None:
        if not self._redo and self._size is not None and len(self._seen) >= self._size:
            return None
        if self._redo:
            redo = self._redo.popleft()
            number, doc = redo.number, self._doc(redo.number, self.to_vals(redo.config))
        else:
            number = self._next
            self._next += 1
            if number < len(self.starts):
                doc = self._start(number, self.starts[number])
            else:
                (doc,) = self.algo([number], self.domain, self.trials, self._seed(number))
        doc = self._insert(doc)
        self._docs[number] = doc
        config = self.to_config(doc["misc"]["vals"])
        self._seen.add(config_key(config))
        return Trial(number, config)

    def _result(self, result: TrialResult) -> dict:
        ho = self._ho
        if result.status == "ok" and result.values and result.values[0] is not None and math.isfinite(result.values[0]):
            value = float(result.values[0])
            return {"status": ho.STATUS_OK, "loss": -value if self.directions[0] == "maximize" else value}
        return {"status": ho.STATUS_FAIL}

    def tell(self, trial: Trial, result: TrialResult) -> None:
        doc = self._docs.pop(trial.number, None)
        if doc is None:
            return
        doc["result"] = self._result(result)
        doc["state"] = self._ho.JOB_STATE_DONE

    def restore(self, results: list[TrialResult], pending: Sequence[Trial] = ()) -> None:
        self.trials = self._ho.Trials()
        self._docs.clear()
        for r in sorted(results, key=lambda r: r.number):
            self._insert(self._doc(r.number, self.to_vals(r.config)), result=self._result(r))
        self._redo = collections.deque(sorted(pending, key=lambda t: t.number))
        self._seen = {config_key(r.config) for r in results} | {config_key(t.config) for t in pending}
        numbers = [r.number for r in results] + [t.number for t in pending]
        self._next = max(numbers, default=-1) + 1

    def close(self) -> None:
        self._docs.clear()


def _never_called(config):  # the driver evaluates trials, not Hyperopt
    raise RuntimeError("Hyperopt's objective is not used: trials run through the driver")
