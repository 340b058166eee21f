"""The one search-space syntax of the spec language.

A plain value is fixed. A mapping with exactly one of ``choice``, ``int`` or
``float`` is searched::

    n_estimators: {int: [50, 500], log: true}
    learning_rate: {float: [0.001, 0.3], log: true}
    max_depth: {choice: [null, 5, 10]}
    alpha: {float: [0, 1], step: 0.1}

The same syntax is valid in model params and in preprocess / select options
(``scale: {choice: [standard, robust]}``), where :func:`searchable` builds the
field type: the value's own type, or a space over it.

Rules follow Optuna's distributions, and so do the messages:
``low <= high`` must hold, ``log`` needs ``low > 0``, ``step`` and ``log``
exclude each other.
"""

# (no `from __future__ import annotations`: pydantic would eval every annotation string at import)

import math
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

SPACE_KEYS = ("choice", "int", "float")


def _numbers_only(tp: Any) -> bool:
    """The type takes numbers (int, float) and never true/false (pydantic's lax mode reads true as 1)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _numbers_only(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        return any(_numbers_only(a) for a in members) and not any(_takes_bool(a) for a in members)
    return tp in (int, float)


def _takes_bool(tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is Annotated:
        return _takes_bool(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return any(_takes_bool(a) for a in get_args(tp))
    if origin is Literal:
        return any(isinstance(a, bool) for a in get_args(tp))
    return tp is bool or tp is Any


_NUMBERS_ONLY: dict[tuple[type, str], bool] = {}


class StrictModel(BaseModel):
    """Base of every spec model: unknown keys are errors, instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: Any) -> Any:
        # `seed: true`, `test_size: yes`, `trials: true`: pydantic would take them as 1;
        # `fill_value: .inf`, `threshold: .nan`: no option means them, and JSON cannot hold them
        odd = isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value))
        if odd and info.field_name:
            key = (cls, info.field_name)
            if key not in _NUMBERS_ONLY:
                _NUMBERS_ONLY[key] = _numbers_only(cls.model_fields[info.field_name].annotation)
            if _NUMBERS_ONLY[key] and isinstance(value, bool):
                word = "true" if value else "false"
                raise PydanticCustomError(
                    "bool_not_number", "expected a number, got {word}", {"word": word, "hint": "true and false are not numbers here: write the number"}
                )
            if _NUMBERS_ONLY[key]:
                word = "nan" if value != value else ("-.inf" if value < 0 else ".inf")
                # an endless budget is no budget, and the run's timers cannot wait for it
                hint = "remove the key for no limit" if info.field_name in ("time", "trial_timeout") else "give a number"
                raise PydanticCustomError("bool_not_number", "expected a finite number, got {word}", {"word": word, "hint": hint})
        return value

    def __repr_args__(self):
        # repr() and str() show a model with ${VAR} resolved: mask what looks like a
        # secret (URL passwords, tokens in query strings, secret-named fields and keys)
        from . import redact_field

        for name, value in super().__repr_args__():
            yield name, redact_field(name, value)


# Not generic on purpose: parametrising a pydantic model per field type costs
# milliseconds each at import; :func:`searchable` checks the items instead.
class Choice(StrictModel):
    """Search among a list of values (categorical)."""

    choice: list[Any] = Field(min_length=1, description="The values to choose from; at least one.")

    def size(self) -> int:
        return len(self.choice)

    def values(self) -> list:
        return list(self.choice)


class IntRange(StrictModel):
    """Search integers in ``[low, high]`` (both included)."""

    int_: tuple[int, int] = Field(alias="int", description="[low, high], both included.")
    log: bool = Field(False, description="Sample on a log scale (needs low >= 1).")
    step: int | None = Field(None, gt=0, description="Only every step-th value from low.")

    @model_validator(mode="after")
    def _check(self):
        low, high = self.int_
        _check_range(low, high, self.log, self.step, minimum_log=1)
        return self

    @property
    def low(self) -> int:
        return self.int_[0]

    @property
    def high(self) -> int:
        return self.int_[1]

    def size(self) -> int:
        return (self.high - self.low) // (self.step or 1) + 1

    def values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step or 1))


class FloatRange(StrictModel):
    """Search real numbers in ``[low, high]``."""

    float_: tuple[float, float] = Field(alias="float", description="[low, high].")
    log: bool = Field(False, description="Sample on a log scale (needs low > 0).")
    step: float | None = Field(None, gt=0, description="Discretise: low, low + step, ... up to high.")

    @model_validator(mode="after")
    def _check(self):
        low, high = self.float_
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"low and high must be finite numbers, but got (low={low}, high={high})")
        _check_range(low, high, self.log, self.step, minimum_log=0)
        return self

    @property
    def low(self) -> float:
        return self.float_[0]

    @property
    def high(self) -> float:
        return self.float_[1]

    def size(self) -> int | None:
        """The number of values on a ``step`` grid; None when continuous."""
        if self.step is None:
            return None if self.high > self.low else 1
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def values(self) -> list[float]:
        n = self.size()
        if n is None:
            raise ValueError("a continuous range has no finite list of values")
        return [round(self.low + i * (self.step or 0), 12) for i in range(n)]


def _check_range(low, high, log: bool, step, minimum_log) -> None:
    if low > high:
        raise ValueError(f"`low <= high` must hold, but got (low={low}, high={high})")
    if log and step is not None:
        raise ValueError("`step` and `log: true` cannot be used together")
    if log and low <= 0:
        raise ValueError(f"`low > 0` must hold for `log: true`, but got (low={low}, high={high})")
    if log and minimum_log and low < minimum_log:
        raise ValueError(f"`low >= {minimum_log}` must hold for an integer `log: true` range, but got low={low}")


Space = Union[Choice, IntRange, FloatRange]


def space_tag(value: Any) -> str:
    """Which member of a searchable union ``value`` is meant to be."""
    if isinstance(value, dict):
        keys = [k for k in SPACE_KEYS if k in value]
        if len(keys) == 1:
            return keys[0]
        if len(keys) > 1:
            return "ambiguous"
        return "value"
    if isinstance(value, Choice):
        return "choice"
    if isinstance(value, IntRange):
        return "int"
    if isinstance(value, FloatRange):
        return "float"
    return "value"


_ADAPTERS: dict[Any, Any] = {}


def _adapter(value_type: Any):
    from pydantic import TypeAdapter

    key = repr(value_type)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(value_type)
    return _ADAPTERS[key]


def _check_items(value_type: Any):
    """An after-validator: each ``choice`` item must be a valid ``value_type``."""

    def check(value: Any) -> Any:
        if not isinstance(value, Choice):
            return value
        from pydantic import ValidationError

        items = []
        for i, item in enumerate(value.choice):
            try:
                items.append(_adapter(value_type).validate_python(item))
            except ValidationError as exc:
                inner = exc.errors(include_url=False)[0]
                raise PydanticCustomError(
                    "choice_item",
                    "choice[{index}]: {message}",
                    {"index": i, "message": inner["msg"], "inner": inner},
                ) from None
        return Choice(choice=items)

    return check


class _ChoiceJsonSchema:
    """JSON Schema of ``{choice: [...]}`` with the items typed (editors complete them)."""

    def __init__(self, value_type: Any):
        self.value_type = value_type

    def __get_pydantic_json_schema__(self, core_schema, handler):
        item = _inline(_adapter(self.value_type).json_schema())
        return {
            "type": "object",
            "title": "Choice",
            "description": "Search among these values.",
            "properties": {"choice": {"type": "array", "minItems": 1, "items": item}},
            "required": ["choice"],
            "additionalProperties": False,
        }


def _inline(schema: dict) -> dict:
    """Resolve a small schema's local ``$ref`` s into itself (to embed it elsewhere)."""
    defs = schema.pop("$defs", {})

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node and node["$ref"].startswith("#/$defs/"):
                return walk(dict(defs[node["$ref"].split("/")[-1]]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


def searchable(value_type: Any, *, ranges: tuple[str, ...] = (), description: str | None = None) -> Any:
    """A field type that takes a fixed ``value_type`` or a search space over it.

    Args:
        value_type: The type of a fixed value (and of each ``choice``).
        ranges: Which of ``"int"`` / ``"float"`` ranges make sense here.
    """
    typed = value_type is not Any
    choice = Annotated[Choice, Tag("choice"), _ChoiceJsonSchema(value_type)] if typed else Annotated[Choice, Tag("choice")]
    members: list[Any] = [Annotated[value_type, Tag("value")], choice]
    if "int" in ranges:
        members.append(Annotated[IntRange, Tag("int")])
    if "float" in ranges:
        members.append(Annotated[FloatRange, Tag("float")])
    disc = Discriminator(
        space_tag,
        custom_error_type="search_space",
        custom_error_message="not a valid value or search space",
    )
    union = Annotated[Union[tuple(members)], disc]
    if typed:
        union = Annotated[union, AfterValidator(_check_items(value_type))]
    if description:
        union = Annotated[union, Field(description=description)]
    return union


#: A model hyperparameter: any fixed value, or any kind of space.
ParamValue = searchable(Any, ranges=("int", "float"))
SearchableInt = searchable(int, ranges=("int",))
SearchableFloat = searchable(float, ranges=("float",))


def is_space(value: Any) -> bool:
    return isinstance(value, (Choice, IntRange, FloatRange))


def is_discrete(value: Any) -> bool:
    """Whether a grid can enumerate ``value``."""
    if isinstance(value, FloatRange):
        return value.size() is not None
    return True


def space_size(value: Any) -> int | None:
    """The number of distinct values; 1 when fixed, None when continuous."""
    if isinstance(value, (Choice, IntRange, FloatRange)):
        return value.size()
    return 1


def walk_spaces(node: Any, path: tuple = ()):
    """Every search space inside ``node`` (a spec model, dict or value), with its path."""
    if is_space(node):
        yield path, node
    elif isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            yield from walk_spaces(getattr(node, name), path + (field.alias or name,))
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk_spaces(v, path + (k,))
