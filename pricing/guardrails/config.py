"""Settings of the hard pricing guardrails (``PRICEGRAPH_PRICING__GUARDRAILS__*``).

The guardrails run after every pricing policy and are never bypassed; this module holds
only their settings and the list of rules in precedence order. The clamping itself is in
:mod:`.apply`. All percentages are in percent (``15`` means 15 %),
all money amounts gross in the shop currency.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ...errors import ConfigError
from ...protected import DEFAULT_PROTECTED_ATTRIBUTES, DEFAULT_PROXY_ATTRIBUTES


class GuardrailRule(IntEnum):
    """The guardrail rules; the value is the precedence (1 = highest, wins every conflict).

    ``1 << (rule - 1)`` is the rule's bit in the masks of
    :func:`~.batch.apply_guardrails_batch`.
    """

    FLOOR = 1
    """Never below unit cost plus the minimum margin (and never below one cent)."""
    CEILING = 2
    """Never above list price plus the maximum markup, nor the product's absolute ceiling."""
    PERSONAL_DEVIATION = 3
    """A personalized price stays within +-``max_personal_deviation_pct`` of the list price."""
    CHANGE_PER_PERIOD = 4
    """At most ``max_change_per_period_pct`` away from the previous period's price."""
    COMPETITOR_BAND = 5
    """Within a band around the cheapest competitor price."""
    LADDER = 6
    """Between the prices of the ladder neighbours of the same brand/category."""
    ROUNDING = 7
    """Whole cents, with an allowed price ending where one fits."""

    @property
    def bit(self) -> int:
        """The rule's bit in a rule mask."""
        return 1 << (self.value - 1)

    @property
    def label(self) -> str:
        """Lower-case name for messages, e.g. ``"competitor band"``."""
        return self.name.lower().replace("_", " ")


def rules_in_mask(mask: int) -> tuple[GuardrailRule, ...]:
    """The rules whose bits are set in ``mask``, in precedence order."""
    return tuple(rule for rule in GuardrailRule if int(mask) & rule.bit)


RoundingMode = Literal["nearest", "down", "up"]

REFERENCE_COST_RATIO = 0.5
"""Cost over list price of the product the floor/ceiling consistency check uses (a 50 %
gross margin): a config whose floor lies above its ceiling for such a product is refused."""


class GuardrailConfig(BaseModel):
    """The hard guardrails every quoted price must satisfy.

    Immutable: change it with :meth:`updated`, which returns a new, validated config. Set
    an optional rule to ``None`` to switch it off.

    Attributes:
        min_margin_pct: Minimum markup over unit cost, in percent of cost, in
            ``[0, 1000]``: the floor is ``unit_cost * (1 + min_margin_pct / 100)``.
        max_markup_over_list_pct: Ceiling as markup over the list price, in percent, in
            ``[0, 1000]`` (``None``: only the product's absolute ceiling, if any).
        max_personal_deviation_pct: A personalized price stays within this many percent
            of the list price, either way, in ``[0, 100]`` (``None``: off).
        max_change_per_period_pct: Largest change against the previous period's price,
            in percent, in ``[0, 1000]`` (``None``: off).
        competitor_floor_pct: At most this many percent below the cheapest competitor
            price, in ``[0, 100]`` (``None``: no lower side).
        competitor_ceiling_pct: At most this many percent above the cheapest competitor
            price, in ``[0, 1000]`` (``None``: no upper side).
        is_ladder_enabled: Keep the price between its ladder neighbours (cheaper and
            dearer product of the same brand/category), when the context gives them.
        ladder_min_gap_pct: Smallest gap to a ladder neighbour, in percent of the
            neighbour's price, in ``[0, 100)``.
        price_endings: Allowed endings as fractions of a currency unit, each a whole
            number of cents in ``[0, 0.99]``, e.g. ``(0.90, 0.95, 0.99)``; stored sorted.
            Empty: round to the cent.
        rounding_mode: Which allowed ending to take: the ``nearest`` (ties to the lower
            price), the next one ``down`` or ``up``; when the preferred one lies outside
            the interval the other rules allow, the nearest one inside is taken.
        approval_threshold_pct: A change of more than this many percent against the
            current price waits for human approval, ``>= 0`` (``None``: never).
        protected_attributes: Names that personalization inputs must not contain.
        proxy_attributes: Names of proxies of protected attributes, refused likewise.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    min_margin_pct: float = Field(default=10.0, ge=0, le=1000)
    max_markup_over_list_pct: float | None = Field(default=30.0, ge=0, le=1000)
    max_personal_deviation_pct: float | None = Field(default=15.0, ge=0, le=100)
    max_change_per_period_pct: float | None = Field(default=None, ge=0, le=1000)
    competitor_floor_pct: float | None = Field(default=None, ge=0, le=100)
    competitor_ceiling_pct: float | None = Field(default=None, ge=0, le=1000)
    is_ladder_enabled: bool = False
    ladder_min_gap_pct: float = Field(default=0.0, ge=0, lt=100)
    price_endings: tuple[float, ...] = ()
    rounding_mode: RoundingMode = "nearest"
    approval_threshold_pct: float | None = Field(default=20.0, ge=0, le=1000)
    protected_attributes: tuple[str, ...] = DEFAULT_PROTECTED_ATTRIBUTES
    proxy_attributes: tuple[str, ...] = DEFAULT_PROXY_ATTRIBUTES

    @field_validator("price_endings")
    @classmethod
    def _check_endings(cls, endings: tuple[float, ...]) -> tuple[float, ...]:
        cents = []
        for ending in endings:
            if not 0 <= ending <= 0.99:
                raise ValueError(f"expected each ending in [0, 0.99], got {ending!r}")
            whole = round(ending * 100)
            if abs(ending * 100 - whole) > 1e-6:
                raise ValueError(f"expected whole cents such as 0.95, got {ending!r}")
            if whole in cents:
                raise ValueError(f"ending {ending!r} is given twice")
            cents.append(whole)
        return tuple(c / 100 for c in sorted(cents))

    @field_validator("protected_attributes", "proxy_attributes")
    @classmethod
    def _check_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not any(ch.isalnum() for ch in name):
                raise ValueError(f"expected attribute names with letters or digits, got {name!r}")
        return names

    @model_validator(mode="after")
    def _check_floor_below_ceiling(self) -> GuardrailConfig:
        markup = self.max_markup_over_list_pct
        if markup is not None and (1 + self.min_margin_pct / 100) * REFERENCE_COST_RATIO > (
            1 + markup / 100
        ):
            raise ValueError(
                f"min_margin_pct ({self.min_margin_pct:g}) and max_markup_over_list_pct "
                f"({markup:g}) contradict each other: the floor would lie above the ceiling "
                f"for a product whose cost is {100 * REFERENCE_COST_RATIO:g} % of its list "
                "price; lower the margin or raise the markup"
            )
        return self

    @property
    def personal_band(self) -> float | None:
        """``max_personal_deviation_pct`` as a fraction of list price (``None``: no band)."""
        deviation = self.max_personal_deviation_pct
        return None if deviation is None else deviation / 100.0

    @property
    def ending_cents(self) -> tuple[int, ...]:
        """The allowed endings in whole cents, ascending, e.g. ``(90, 95, 99)``."""
        return tuple(round(ending * 100) for ending in self.price_endings)

    def updated(self, **changes: Any) -> GuardrailConfig:
        """A copy with ``changes`` applied and validated (for the settings mutation).

        Raises:
            ConfigError: A field is unknown or a value is invalid; the message names
                the field (``pricing.guardrails.<field>``) and the value.
        """
        return guardrail_config_from({**self.model_dump(), **changes})


def guardrail_config_from(values: dict[str, Any]) -> GuardrailConfig:
    """Validate ``values`` into a :class:`GuardrailConfig`, raising our own error.

    Raises:
        ConfigError: Lists every invalid field as ``pricing.guardrails.<field>`` with
            the expectation and the value given.
    """
    try:
        return GuardrailConfig.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"pricing.guardrails.{'.'.join(str(p) for p in e['loc'])}: {e['msg']} "
            f"(got {_short(e['input'])})"
            if e["loc"]
            else f"pricing.guardrails: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid guardrail settings: {problems}") from None


def _short(value: Any) -> str:
    """``repr(value)``, cut to 40 characters (an error quotes a short prefix only)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


__all__ = [
    "DEFAULT_PROTECTED_ATTRIBUTES",
    "DEFAULT_PROXY_ATTRIBUTES",
    "REFERENCE_COST_RATIO",
    "GuardrailConfig",
    "GuardrailRule",
    "RoundingMode",
    "guardrail_config_from",
    "rules_in_mask",
]
