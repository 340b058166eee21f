"""A genetic algorithm on DEAP, behind ask/tell.

An individual is a list of genes, one per dimension of the space (the model
choice, every model's parameters, the shared options): a categorical gene is
an index into its choices, an int gene an int, a float gene a float; log
ranges are sampled and mutated on the log scale. Only the genes of the model
the model gene selects reach the configuration; the others ride along (so a
model's parameters survive generations spent on another model).

The loop is DEAP's ``eaSimple`` with elitism (``tools.HallOfFame``): tournament
selection (``tools.selTournament``), uniform crossover (``tools.cxUniform``)
with probability ``crossover``, per-gene mutation with probability
``mutation`` x ``gene_mutation``. With several objectives, NSGA-II: random
mating and ``tools.selNSGA2`` over parents + offspring.

Determinism: every draw comes from this searcher's ``random.Random(seed)``.
DEAP's operators draw from the global ``random`` module, so they run with our
generator's state swapped in (:meth:`GeneticSearcher._with_rng`) and the global
state put back after: seeded, without touching anyone else's random stream.

A configuration already evaluated (or waiting) is not evaluated again: the
individual is mutated again until it is new (at most 10 times, as TPOT does),
else it takes the known fitness. So the trial budget goes to new
configurations. A generation is
complete when all its individuals are told: :meth:`ask` returns None while it
waits, which keeps runs with parallel trials identical to sequential ones.
"""

from __future__ import annotations

import collections
import math
import random
from collections.abc import Sequence

from deap import base, creator, tools

from ..errors import SearchError
from ..spec.models import GeneticOptions
from .base import Searcher, Trial, TrialResult, config_key
from .space import MODEL, Dim

_WORST = 1e300  # fitness of a failed trial (finite: NSGA-II's crowding distance divides by ranges)
_SIGMA = 0.2  # mutation step, as a share of a numeric range (on its own scale)
_RETRIES = 10  # mutations tried to turn an already-seen configuration into a new one


def _classes(directions: Sequence[str]) -> type:
    """DEAP ``creator`` classes for these directions (created once per process)."""
    weights = tuple(1.0 if d == "maximize" else -1.0 for d in directions)
    tag = "_".join("max" if w > 0 else "min" for w in weights)
    fitness, individual = f"MlxFitness_{tag}", f"MlxIndividual_{tag}"
    if not hasattr(creator, fitness):
        creator.create(fitness, base.Fitness, weights=weights)
    if not hasattr(creator, individual):
        creator.create(individual, list, fitness=getattr(creator, fitness))
    return getattr(creator, individual)


class GeneticSearcher(Searcher):
    """An evolutionary algorithm over the mixed, conditional space (DEAP)."""

    options_model = GeneticOptions

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        o = self.options
        self._rng = random.Random(self.seed)
        self._genes: list[Dim] = space.dims()
        self._index = {d.name: i for i, d in enumerate(self._genes)}
        self.Individual = _classes(self.directions)
        tb = base.Toolbox()
        tb.register("individual", tools.initIterate, self.Individual, self._random_genes)
        tb.register("population", tools.initRepeat, list, tb.individual)
        tb.register("mate", tools.cxUniform, indpb=0.5)
        tb.register("mutate", self._mutate, indpb=o.gene_mutation)
        tb.register("select", tools.selTournament, tournsize=o.tournament)
        self.toolbox = tb
        self._evolution = self._evolve()
        self._exhausted = False
        self._queue: collections.deque[tuple[str, dict]] = collections.deque()
        self._waiting: dict[str, list] = {}  # config key -> individuals awaiting its fitness
        self._out: dict[int, str] = {}  # trial number -> config key
        self._cache: dict[str, tuple] = {}  # config key -> fitness values
        self._known: dict[int, TrialResult] = {}
        self._next = 0
        self.generation = -1

    # ------------------------------------------------------------ genes
    def _random_genes(self) -> list:
        return [self._sample(d) for d in self._genes]

    def _sample(self, d: Dim):
        rng = self._rng
        if d.kind == "categorical":
            return rng.randrange(len(d.choices))
        if d.kind == "int" and d.log:
            # Log-uniform over the integers: floor of a draw in [low, high + 1).
            return self._snap(d, math.floor(math.exp(rng.uniform(math.log(d.low), math.log(d.high + 1)))))
        return self._snap(d, self._unscale(d, rng.uniform(self._scale(d, d.low), self._scale(d, d.high))))

    @staticmethod
    def _scale(d: Dim, x: float) -> float:
        return math.log(x) if d.log else x

    @staticmethod
    def _unscale(d: Dim, t: float) -> float:
        return math.exp(t) if d.log else t

    @staticmethod
    def _snap(d: Dim, x: float):
        """Into ``[low, high]``, on the step grid, as the dimension's type."""
        x = min(max(x, d.low), d.high)
        if d.kind == "int":
            step = int(d.step or 1)
            v = int(d.low) + int(math.floor((x - d.low) / step + 0.5)) * step
            return min(max(v, int(d.low)), int(d.high))
        if d.step:
            n = round((x - d.low) / d.step)
            return min(round(d.low + n * d.step, 12), d.high)
        return float(x)

    def _mutate(self, ind: list, indpb: float) -> tuple[list]:
        rng = self._rng
        for i, d in enumerate(self._genes):
            if rng.random() >= indpb:
                continue
            if d.kind == "categorical":
                if len(d.choices) > 1:
                    ind[i] = rng.choice([j for j in range(len(d.choices)) if j != ind[i]])
                continue
            lo, hi = self._scale(d, d.low), self._scale(d, d.high)
            t = self._scale(d, ind[i]) + rng.gauss(0.0, _SIGMA * (hi - lo))
            # Reflect at the bounds rather than pile up on them.
            if t < lo:
                t = min(hi, 2 * lo - t)
            elif t > hi:
                t = max(lo, 2 * hi - t)
            ind[i] = self._snap(d, self._unscale(d, t))
        return (ind,)

    def decode(self, ind: Sequence) -> dict:
        """The configuration an individual stands for (active genes only)."""
        config = {}
        if self.space.model_dim is not None:
            config[MODEL] = self.space.model_dim.choices[ind[self._index[MODEL]]]
        model = config.get(MODEL) or next(iter(self.space.models))
        for d in self.space.active_dims(model):
            g = ind[self._index[d.name]]
            config[d.name] = d.choices[g] if d.kind == "categorical" else g
        return self.space.complete(config)

    # ------------------------------------------------------------ evolution
    def _with_rng(self, fn, *args, **kwargs):
        """Run a DEAP operator (which uses the global ``random``) on our generator."""
        saved = random.getstate()
        random.setstate(self._rng.getstate())
        try:
            return fn(*args, **kwargs)
        finally:
            self._rng.setstate(random.getstate())
            random.setstate(saved)

    def _vary(self, offspring: list) -> list:
        # DEAP's algorithms.varAnd, drawing from our generator.
        o, tb, rng = self.options, self.toolbox, self._rng
        for i in range(1, len(offspring), 2):
            if rng.random() < o.crossover:
                self._with_rng(tb.mate, offspring[i - 1], offspring[i])
                del offspring[i - 1].fitness.values, offspring[i].fitness.values
        for ind in offspring:
            if rng.random() < o.mutation:
                tb.mutate(ind)
                del ind.fitness.values
        return offspring

    def _evolve(self):
        """The generations; yields each generation's individuals to evaluate."""
        o, tb = self.options, self.toolbox
        multi = self.n_objectives > 1
        self.generation = 0
        pop = tb.population(n=o.population)
        yield pop
        hof = tools.HallOfFame(o.elite) if o.elite and not multi else None
        if hof is not None:
            hof.update(pop)
        for g in range(1, o.generations + 1):
            self.generation = g
            if multi:
                parents = self._with_rng(tools.selRandom, pop, o.population)
            else:
                parents = self._with_rng(tb.select, pop, o.population - (o.elite if hof else 0))
            offspring = self._vary([tb.clone(p) for p in parents])
            yield [ind for ind in offspring if not ind.fitness.valid]
            if multi:
                pop = tools.selNSGA2(pop + offspring, o.population)
            else:
                elites = [tb.clone(i) for i in hof.items] if hof is not None else []
                pop = elites + offspring
                if hof is not None:
                    hof.update(offspring)

    def _enqueue(self, batch: list) -> None:
        for ind in batch:
            config = self.decode(ind)
            key = config_key(config)
            # A configuration seen before is mutated again (as TPOT does), so
            # that the trial budget goes to new ones; a tiny space may leave
            # no new one, and then the known fitness is reused.
            for _ in range(_RETRIES):
                if key not in self._cache and key not in self._waiting:
                    break
                self.toolbox.mutate(ind)
                config = self.decode(ind)
                key = config_key(config)
            if key in self._cache:
                ind.fitness.values = self._cache[key]
            elif key in self._waiting:
                self._waiting[key].append(ind)
            else:
                self._waiting[key] = [ind]
                self._queue.append((key, config))

    def _fitness(self, result: TrialResult) -> tuple:
        if result.ok:
            return tuple(result.values)
        return tuple(-_WORST if d == "maximize" else _WORST for d in self.directions)

    def _learn(self, key: str, result: TrialResult) -> None:
        values = self._fitness(result)
        self._cache[key] = values
        for ind in self._waiting.pop(key, []):
            ind.fitness.values = values

    # ------------------------------------------------------------ ask / tell
    def ask(self) -> Trial | None:
        while True:
            if self._queue:
                key, config = self._queue.popleft()
                number = self._next
                self._next += 1
                known = self._known.pop(number, None)
                if known is not None:
                    if config_key(known.config) != key:
                        raise SearchError(
                            f"trial {number} of the journal does not match this search space, seed and options",
                            hint="the spec changed since that run: start afresh (without resume) or use another output folder",
                        )
                    self._learn(key, known)
                    continue
                self._out[number] = key
                return Trial(number, dict(config))
            if self._out or self._exhausted:
                return None  # wait for the generation's results, or done
            try:
                batch = next(self._evolution)
            except StopIteration:
                self._exhausted = True
                return None
            self._enqueue(batch)

    def tell(self, trial: Trial, result: TrialResult) -> None:
        key = self._out.pop(trial.number, None)
        if key is not None:
            self._learn(key, result)

    def restore(self, results: list[TrialResult], pending: Sequence[Trial] = ()) -> None:
        # Replayed in ask(): trial numbers follow the (deterministic) order in
        # which generations hand out new configurations, so trial n of the
        # journal is told as soon as the replay reaches it. Pending trials are
        # simply not known, and so are handed out again with their numbers.
        self._known = {r.number: r for r in results}
