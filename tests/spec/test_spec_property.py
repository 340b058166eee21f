"""Property tests: whatever the document, loading gives a spec or a SpecError.

Never another exception: arbitrary YAML text, arbitrary data trees, and valid
specs with random parts replaced by random values.
"""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automl_yaml.errors import SpecError
from automl_yaml.spec import load_spec
from automl_yaml.spec.loader import load_yaml

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["choice", "int", "float", "log", "step", "iris", "penguins", "random_forest", "sample", "file", "grid", "${HOME}", "${NOPE}", "10m"]),
)
keys = st.one_of(
    st.sampled_from(
        ["sources", "data", "target", "kind", "name", "path", "models", "params", "search", "strategy", "metric", "budget",
         "choice", "int", "float", "log", "select", "preprocess", "numeric", "scale", "impute", "split", "tracking", "version"]
    ),
    st.text(min_size=1, max_size=8),
)
trees = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)), max_leaves=25)

VALID = {
    "sources": {"d": {"kind": "sample", "name": "iris"}},
    "data": {"target": "target"},
    "preprocess": {"numeric": {"scale": {"choice": ["standard", "robust"]}}},
    "select": [{"univariate": {"k": {"int": [2, 4]}}}],
    "models": {"random_forest": {"params": {"n_estimators": {"int": [10, 50], "log": True}, "max_depth": {"choice": [None, 3]}}}},
    "search": {"strategy": "genetic", "options": {"population": 4}, "budget": {"trials": 8}},
}


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(VALID) if p]


def _load(data):
    try:
        load_spec(data, environ={})
    except SpecError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.message
            p.render()


@SETTINGS
@given(trees)
def test_arbitrary_trees(tree):
    if isinstance(tree, dict):
        _load(tree)
    else:
        try:
            load_spec({"x": tree}, environ={})
        except SpecError:
            pass


@SETTINGS
@given(st.sampled_from(PATHS), trees)
def test_valid_spec_with_one_part_replaced(path, value):
    data = copy.deepcopy(VALID)
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    _load(data)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    try:
        data, _ = load_yaml(text, "fuzz.yaml")
    except SpecError:
        return
    if isinstance(data, dict):
        _load(data)


@SETTINGS
@given(trees)
def test_dumped_yaml_roundtrip(tree):
    text = yaml.safe_dump({"sources": {"d": {"kind": "sample", "name": "iris"}}, "data": {"target": "t"}, "extra": tree})
    try:
        load_spec_text(text)
    except SpecError:
        pass


def load_spec_text(text: str):
    data, _ = load_yaml(text, "t.yaml")
    return load_spec(data, environ={})
