"""The promotion gate's rule: first model, better, worse, tie, min_delta, direction, always/never, unscorable champion."""

import pytest

from automl_yaml.promote import decide
from automl_yaml.spec.models import PromoteRule


@pytest.mark.parametrize(
    ("rule", "champion_version", "challenger", "champion", "greater", "promote", "says"),
    [
        (PromoteRule(), None, 0.1, None, True, True, "first model"),
        (PromoteRule(), "3", 0.91, 0.90, True, True, "beats the champion"),
        (PromoteRule(), "3", 0.43, 0.99, True, False, "does not beat"),
        (PromoteRule(), "3", 0.90, 0.90, True, False, "does not beat"),  # a tie keeps the champion
        (PromoteRule(min_delta=0.002), "3", 0.901, 0.900, True, False, "more than 0.002"),
        (PromoteRule(min_delta=0.002), "3", 0.903, 0.900, True, True, "beats"),
        (PromoteRule(metric="rmse"), "3", 1.0, 2.0, False, True, "lower is better"),
        (PromoteRule(metric="rmse"), "3", 2.0, 1.0, False, False, "lower by more than 0"),
        ("always", "3", 0.1, 0.9, True, True, "always"),
        ("never", "3", 0.9, 0.1, True, False, "never"),
        ("never", None, 0.9, None, True, False, "never"),
    ],
)
def test_the_rule(rule, champion_version, challenger, champion, greater, promote, says):
    d = decide(rule, champion_version=champion_version, metric="m", greater_is_better=greater, challenger=challenger, champion=champion, rows=50)
    assert d.promote is promote and says in d.reason, d.reason


def test_a_champion_that_cannot_be_scored_keeps_the_alias():
    d = decide(PromoteRule(), champion_version="2", metric="accuracy", challenger=0.9, champion_error="column 'x' is missing")
    assert not d.promote and "could not be scored" in d.reason and "column 'x'" in d.reason


def test_a_score_that_is_not_a_number_does_not_promote():
    d = decide(PromoteRule(), champion_version="2", metric="r2", challenger=float("nan"), champion=0.5)
    assert not d.promote
