"""Model monitoring: a reference profile saved with each model, and drift against it.

:mod:`.reference` builds the profile from the training rows; :mod:`.drift`
compares current rows (and the model's predictions and scores on them) with it.
"""

from .drift import Thresholds, compare
from .reference import build_reference

__all__ = ["Thresholds", "build_reference", "compare"]
