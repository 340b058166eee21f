"""Pareto fronts of multi-objective results."""

from __future__ import annotations

from collections.abc import Sequence


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether ``a`` is at least as good as ``b`` everywhere and better somewhere."""
    strictly = False
    for x, y, d in zip(a, b, directions):
        if d == "minimize":
            x, y = -x, -y
        if x < y:
            return False
        if x > y:
            strictly = True
    return strictly


def pareto_front(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """The indexes of the points no other point dominates, in input order.

    Equal points are all kept (none dominates the other). Quadratic, which is
    fine for the hundreds of trials of a search.

    >>> pareto_front([[0.9, 3.0], [0.8, 1.0], [0.7, 2.0]], ["maximize", "minimize"])
    [0, 1]
    """
    return [i for i, p in enumerate(points) if not any(dominates(q, p, directions) for j, q in enumerate(points) if j != i)]
