"""Optuna strategies: ``optuna`` (a chosen sampler and pruner) and ``bayesian`` (GPSampler).

A thin wrapper over Optuna's ask-and-tell interface. The conditional space is
sampled define-by-run: the model first (with the shared preprocessing and
selection dimensions, as ``study.ask(fixed_distributions)``), then only that
model's parameters. Choices that Optuna cannot store (lists, mappings, spec
models) travel as their :meth:`Dim.labels <automl_yaml.search.space.Dim.labels>`.

The study lives in ``<workdir>/optuna.journal`` (Optuna's ``JournalStorage``
over a ``JournalFileBackend``: a few milliseconds per trial, readable by
optuna-dashboard). The driver's own trial journal is the one source of truth:
on resume, the study is rebuilt from it (``study.add_trials``) rather than
reconciled with a study file that a killed process may have left half told.
"""

from __future__ import annotations

import collections
import logging
import math
import pathlib
import warnings
from collections.abc import Sequence

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from ..errors import TORCH_PIP, MissingDependencyError, UsageError
from ..spec.models import BayesianOptions, OptunaOptions
from .base import Searcher, Trial, TrialResult, config_key
from .space import MODEL, Dim, label

_PLAIN = (str, int, float, bool, type(None))
STUDY_NAME = "mlx"
STUDY_FILE = "optuna.journal"
#: Finished trials needed before importances are computed.
MIN_TRIALS_FOR_IMPORTANCE = 4


class _NoGreenletNotice(logging.Filter):
    """Drops Optuna's "'greenlet' package is unavailable" warning, and only that.

    Optuna logs it (as ``[W ...]``, in the middle of the progress display,
    even with ``--quiet``) when its GP sampler (the bayesian strategy, or
    sampler: gp) first optimises its acquisition function without the optional
    ``greenlet`` package. Nothing is wrong: the same L-BFGS-B runs one start
    point after the other instead of batched (about 1 s more over a 40-trial
    bayesian run, measured with Optuna 5.0). Users install torch for the
    bayesian strategy as the docs say, and the message is Optuna's, not a
    step of theirs; whoever wants the batched variant installs the ``gp``
    extra (torch and greenlet).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "'greenlet' package is unavailable" not in record.getMessage()


# On the logger of the module that logs it (optuna._gp.batched_lbfgsb, imported
# at the first GP suggestion): a logger's filters see its own records only.
logging.getLogger("optuna._gp.batched_lbfgsb").addFilter(_NoGreenletNotice())


def _quiet() -> None:
    # Optuna logs every trial at INFO; the runner reports trials itself.
    if optuna.logging.get_verbosity() <= optuna.logging.INFO:
        optuna.logging.set_verbosity(optuna.logging.WARNING)


class _Codec:
    """One dimension as an Optuna distribution, and its values to and fro."""

    def __init__(self, d: Dim):
        self.dim = d
        self.labelled = d.kind == "categorical" and not all(isinstance(c, _PLAIN) for c in d.choices)
        if d.kind == "categorical":
            self.distribution = CategoricalDistribution(d.labels() if self.labelled else list(d.choices))
        elif d.kind == "int":
            step = int(d.step or 1)
            high = int(d.low) + (int(d.high) - int(d.low)) // step * step
            self.distribution = IntDistribution(int(d.low), high, log=d.log, step=step)
        else:
            high = d.high
            if d.step is not None:
                high = d.low + int((d.high - d.low) / d.step + 1e-9) * d.step
            self.distribution = FloatDistribution(float(d.low), float(high), log=d.log, step=d.step)

    def suggest(self, trial: optuna.trial.Trial):
        value = self._suggest(trial)
        return self.dim.from_label(value) if self.labelled else value

    def _suggest(self, trial: optuna.trial.Trial):
        d, dist = self.dim, self.distribution
        if isinstance(dist, CategoricalDistribution):
            return trial.suggest_categorical(d.name, dist.choices)
        if isinstance(dist, IntDistribution):
            return trial.suggest_int(d.name, dist.low, dist.high, step=dist.step, log=dist.log)
        return trial.suggest_float(d.name, dist.low, dist.high, step=dist.step, log=dist.log)

    def middle(self):
        """A stand-in value for an inactive dimension (in Optuna's terms)."""
        dist = self.distribution
        if isinstance(dist, CategoricalDistribution):
            return dist.choices[0]
        lo, hi = dist.low, dist.high
        mid = math.sqrt(lo * hi) if dist.log else (lo + hi) / 2
        if dist.step is not None:
            mid = lo + round((mid - lo) / dist.step) * dist.step
        return int(round(mid)) if isinstance(dist, IntDistribution) else float(min(max(mid, lo), hi))

    def encode(self, value):
        return label(value) if self.labelled else value


class OptunaSearcher(Searcher):
    """An Optuna study driven by ask/tell, with a sampler and a pruner.

    The first trials are the models' default configurations, cheapest model
    first (:meth:`SearchSpace.starting_points
    <automl_yaml.search.space.SearchSpace.starting_points>`, enqueued with
    Optuna's ``study.enqueue_trial``), never pruned; the sampler proposes the
    rest.

    Samplers (``options.sampler``): ``tpe`` (default; ``multivariate`` and, for
    a model choice, ``group``), ``cmaes`` (needs the ``cmaes`` package),
    ``nsga2`` (the default with several objectives), ``qmc``, ``random``,
    ``gp``. Pruners (``options.pruner``) act on the per-fold running score
    through :meth:`should_prune`: ``median``, ``successive_halving``,
    ``hyperband``, ``none``. Optuna cannot prune multi-objective studies, so
    pruning is off with several objectives.
    """

    options_model = OptunaOptions
    #: Sample every dimension in every trial (inactive ones are ignored), so a
    #: sampler that only models the dimensions common to all trials (the GP)
    #: sees the whole space; see :class:`BayesianSearcher`.
    flat = False

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        _quiet()
        self._codecs = {d.name: _Codec(d) for d in space.dims()}
        self.sampler = self._make_sampler()
        self.pruner = self._make_pruner() if self.n_objectives == 1 else optuna.pruners.NopPruner()
        self.study: optuna.Study | None = None
        self._running: dict[int, optuna.trial.Trial] = {}
        self._reported: dict[int, set[int]] = {}
        self._redo: collections.deque[Trial] = collections.deque()
        self._next = 0
        # A finite space is exhausted once every configuration was proposed
        # (samplers repeat themselves in small discrete spaces).
        self._size = space.size()
        self._seen: set[str] = set()
        # Trial n < len(starts) is model n's default configuration (cheapest
        # model first), whatever the sampler: see SearchSpace.starting_points.
        # Numbering makes it hold on resume too (finished starts keep their
        # numbers; new trials are numbered after them).
        self.starts = space.starting_points()

    # ------------------------------------------------------------ set-up
    def _make_sampler(self) -> optuna.samplers.BaseSampler:
        o, seed = self.options, self.seed
        name = o.sampler
        if self.n_objectives > 1 and "sampler" not in o.model_fields_set:
            name = "nsga2"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if name == "tpe":
                return optuna.samplers.TPESampler(
                    seed=seed,
                    n_startup_trials=o.n_startup_trials,
                    multivariate=o.multivariate,
                    group=o.multivariate and self.space.model_dim is not None,
                    constant_liar=True,  # parallel trials: do not propose what is already running
                )
            if name == "cmaes":
                _require("cmaes", "the cmaes sampler", "pip install cmaes")
                if self.n_objectives > 1:
                    raise UsageError("the cmaes sampler optimises one objective", hint="use sampler: nsga2 or tpe for several metrics")
                return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=o.n_startup_trials, warn_independent_sampling=False)
            if name == "nsga2":
                # A population that evolves within the budget (Optuna's default is 50).
                size = 50 if self.budget_trials is None else max(4, min(50, self.budget_trials // 4))
                return optuna.samplers.NSGAIISampler(seed=seed, population_size=size)
            if name == "qmc":
                return optuna.samplers.QMCSampler(
                    seed=seed, scramble=True, warn_independent_sampling=False, warn_asynchronous_seeding=False
                )
            if name == "random":
                return optuna.samplers.RandomSampler(seed=seed)
            if name == "gp":
                return _gp_sampler(seed, o.n_startup_trials, deterministic=False)
        raise ValueError(f"unknown sampler {name!r}")

    def _make_pruner(self) -> optuna.pruners.BasePruner:
        name = self.options.pruner
        if name == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=self.options.n_startup_trials, n_warmup_steps=0)
        if name == "successive_halving":
            return optuna.pruners.SuccessiveHalvingPruner(min_resource=1)
        if name == "hyperband":
            return optuna.pruners.HyperbandPruner(min_resource=1)
        return optuna.pruners.NopPruner()

    @property
    def storage_path(self) -> pathlib.Path | None:
        return self.workdir / STUDY_FILE if self.workdir is not None else None

    def _new_study(self) -> optuna.Study:
        path = self.storage_path
        if path is None:
            storage = optuna.storages.InMemoryStorage()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A new search (or a resumed one, rebuilt from the trial journal)
            # starts a fresh file; a lock left by a killed process goes too.
            for p in (path, path.with_name(path.name + ".lock")):
                p.unlink(missing_ok=True)
            storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
        return optuna.create_study(
            storage=storage,
            sampler=self.sampler,
            pruner=self.pruner,
            study_name=STUDY_NAME,
            directions=self.directions,
        )

    def _study(self) -> optuna.Study:
        if self.study is None:
            self.study = self._new_study()
        return self.study

    def _params(self, config: dict) -> tuple[dict, dict]:
        params, dists = {}, {}
        for k, v in config.items():
            c = self._codecs[k]
            params[k] = c.encode(v)
            dists[k] = c.distribution
        return params, dists

    # ------------------------------------------------------------ ask / tell
    def ask(self) -> Trial | None:
        study = self._study()
        if not self._redo and self._size is not None and len(self._seen) >= self._size:
            return None
        if self._redo:
            redo = self._redo.popleft()
            study.enqueue_trial(self._params(redo.config)[0])
            number = redo.number
        else:
            number = self._next
            self._next += 1
            if number < len(self.starts):
                study.enqueue_trial(self._params(self.starts[number])[0])
        model_dim = self.space.model_dim
        if self.flat:
            fixed = {name: c.distribution for name, c in self._codecs.items()}
        else:
            fixed = {d.name: self._codecs[d.name].distribution for d in ([model_dim] if model_dim else []) + self.space.shared}
        ot = study.ask(fixed)
        config = {}
        if model_dim is not None:
            config[MODEL] = self._codecs[MODEL].suggest(ot)
        model = config.get(MODEL) or next(iter(self.space.models))
        for d in self.space.active_dims(model):
            config[d.name] = self._codecs[d.name].suggest(ot)
        ot.set_user_attr("mlx_number", number)
        self._running[number] = ot
        self._reported[number] = set()
        config = self.space.complete(config)
        self._seen.add(config_key(config))
        return Trial(number, config)

    @property
    def prunes(self) -> bool:
        return self.n_objectives == 1 and not isinstance(self.pruner, optuna.pruners.NopPruner)

    def should_prune(self, trial: Trial, step: int, value: float) -> bool:
        if not self.prunes:
            return False
        ot = self._running.get(trial.number)
        if ot is None:
            return False
        ot.report(value, step)
        self._reported[trial.number].add(step)
        # A model's default configuration is always evaluated in full.
        return trial.number >= len(self.starts) and ot.should_prune()

    def tell(self, trial: Trial, result: TrialResult) -> None:
        ot = self._running.pop(trial.number, None)
        reported = self._reported.pop(trial.number, set())
        if ot is None:
            return
        if self.n_objectives == 1:
            # The pruner's history: steps the evaluator did not report (it
            # reports all folds but the last) are added from the result.
            for step, v in enumerate(result.intermediate):
                if step not in reported:
                    ot.report(v, step)
        if result.status == "ok":
            self.study.tell(ot, result.values)
        elif result.status == "pruned":
            self.study.tell(ot, state=TrialState.PRUNED)
        else:
            self.study.tell(ot, state=TrialState.FAIL)

    def restore(self, results: list[TrialResult], pending: Sequence[Trial] = ()) -> None:
        self.study = self._new_study()
        frozen = []
        for r in sorted(results, key=lambda r: r.number):
            params, dists = self._params(r.config)
            if self.flat:
                # The journal keeps active dimensions only; the inactive ones
                # were sampled but never used, so any stand-in will do.
                for name, c in self._codecs.items():
                    if name not in params:
                        params[name], dists[name] = c.middle(), c.distribution
            single = self.n_objectives == 1
            if r.status == "ok":
                state, values = TrialState.COMPLETE, r.values
            elif r.status == "pruned":
                state, values = TrialState.PRUNED, ([r.intermediate[-1]] if single and r.intermediate else None)
            else:
                state, values = TrialState.FAIL, None
            frozen.append(
                optuna.trial.create_trial(
                    state=state,
                    values=values,
                    params=params,
                    distributions=dists,
                    user_attrs={"mlx_number": r.number},
                    intermediate_values=dict(enumerate(r.intermediate)) if single else None,
                )
            )
        self.study.add_trials(frozen)
        self._redo = collections.deque(sorted(pending, key=lambda t: t.number))
        self._seen = {config_key(r.config) for r in results} | {config_key(t.config) for t in pending}
        numbers = [r.number for r in results] + [t.number for t in pending]
        self._next = max(numbers, default=-1) + 1

    # ------------------------------------------------------------ extras
    def importances(self) -> dict[str, float] | None:
        """fANOVA importances (Optuna's), once enough trials completed; else None."""
        if self.study is None:
            return None
        done = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(done) < MIN_TRIALS_FOR_IMPORTANCE:
            return None
        target = (lambda t: t.values[0]) if self.n_objectives > 1 else None
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=self.seed)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = optuna.importance.get_param_importances(self.study, evaluator=evaluator, target=target)
        except (ValueError, RuntimeError):
            # e.g. no parameter common to every completed trial, or constant values.
            return None
        return {k: float(v) for k, v in found.items()} or None

    def close(self) -> None:
        self._running.clear()


class BayesianSearcher(OptunaSearcher):
    """Gaussian-process Bayesian optimisation: Optuna's ``GPSampler`` (needs PyTorch).

    ``options.n_startup_trials`` random trials come first; ``deterministic``
    tells the GP that scores are noise-free. No pruning.

    The GP models only the dimensions every trial has, so a conditional space
    is flattened: every trial samples every model's parameters, and those of
    the models not chosen are ignored (the GP's per-dimension length scales
    learn that they do not matter). Without this, a model's own parameters
    would be drawn at random forever.
    """

    options_model = BayesianOptions
    flat = True

    def _make_sampler(self) -> optuna.samplers.BaseSampler:
        return _gp_sampler(self.seed, self.options.n_startup_trials, deterministic=self.options.deterministic)

    def _make_pruner(self) -> optuna.pruners.BasePruner:
        return optuna.pruners.NopPruner()




def _require(module: str, purpose: str, pip: str) -> None:
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(module, purpose=purpose, pip=pip) from e


def _gp_sampler(seed: int, n_startup_trials: int, *, deterministic: bool) -> optuna.samplers.BaseSampler:
    _require("torch", "the bayesian strategy (Optuna's GPSampler)", TORCH_PIP)
    import torch

    # The GP's matrices are tiny (trials x dimensions): threads cost more than
    # they bring (measured 3x slower with 2), and the CPUs belong to the trials.
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.GPSampler(
            seed=seed,
            n_startup_trials=n_startup_trials,
            deterministic_objective=deterministic,
            warn_independent_sampling=False,
        )
