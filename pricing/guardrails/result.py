"""What the guardrails did to a price: the rules that bound it, and those in conflict.

Produced by :func:`~.apply.apply_guardrails`; amounts are gross,
in the shop currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import GuardrailRule


@dataclass(frozen=True)
class RuleBinding:
    """A rule that moved the price, and by how much.

    A conflicting rule moves the price too, as far toward its bound as the higher rules
    allow; it then also appears in :attr:`GuardrailResult.conflicts`.
    """

    rule: GuardrailRule
    """The rule."""
    bound: float
    """The bound that pulled the price: reached unless the rule is in conflict (for
    rounding: the rounded price)."""
    price_before: float
    """Price before this rule."""
    price_after: float
    """Price after this rule."""
    reason: str
    """Why, e.g. ``"to keep the 20% minimum margin over cost 82.00"``."""

    @property
    def delta(self) -> float:
        """``price_after - price_before``, in the shop currency."""
        return self.price_after - self.price_before

    @property
    def delta_pct(self) -> float | None:
        """The change in percent of ``price_before`` (``None`` when that is 0)."""
        if self.price_before == 0:
            return None
        return 100.0 * self.delta / self.price_before

    def describe(self) -> str:
        """One sentence, e.g. ``"floor: raised by 4.10 to 98.40, to keep the ..."``."""
        verb = "raised" if self.delta > 0 else "lowered"
        amount = f"{abs(self.delta):.2f}" if abs(self.delta) >= 0.005 else "less than 0.01"
        return f"{self.rule.label}: {verb} by {amount} to {self.price_after:.2f}, {self.reason}"


@dataclass(frozen=True)
class RuleConflict:
    """A rule the price cannot meet because the higher rules leave no room for it."""

    rule: GuardrailRule
    """The skipped rule."""
    lower: float | None
    """Lowest price the rule allows (``None``: unbounded)."""
    upper: float | None
    """Highest price the rule allows (``None``: unbounded)."""
    allowed_lower: float | None
    """Lowest price the higher rules allowed."""
    allowed_upper: float | None
    """Highest price the higher rules allowed."""
    reason: str
    """What happened instead."""

    def describe(self) -> str:
        """One sentence, e.g. ``"ceiling: overruled, its range ... does not meet ..."``."""
        return f"{self.rule.label}: {self.reason}"


@dataclass(frozen=True)
class GuardrailResult:
    """A guardrailed price and how the rules shaped it."""

    product_id: str
    """The product."""
    price: float
    """The price to quote: whole cents, gross, in the shop currency."""
    proposed_price: float
    """What the policy proposed."""
    bindings: tuple[RuleBinding, ...]
    """The rules that moved the price, in precedence order."""
    conflicts: tuple[RuleConflict, ...]
    """The rules skipped in favour of higher ones, in precedence order."""
    is_personalized: bool
    """The price was personalized: the shop must tell the customer so."""
    needs_approval: bool
    """The change against the current price exceeds ``approval_threshold_pct``."""
    reference_price: float | None
    """The lowest price of the last 30 days, the only allowed reference of a discount."""
    announced_discount_pct: float | None
    """The reduction that may be announced against ``reference_price``, in percent."""

    @property
    def bound_rules(self) -> tuple[GuardrailRule, ...]:
        """The rules that moved the price."""
        return tuple(binding.rule for binding in self.bindings)

    @property
    def conflicting_rules(self) -> tuple[GuardrailRule, ...]:
        """The rules that were skipped."""
        return tuple(conflict.rule for conflict in self.conflicts)

    def describe(self) -> tuple[str, ...]:
        """One sentence per binding, then one per conflict."""
        return tuple(item.describe() for item in (*self.bindings, *self.conflicts))


__all__ = ["GuardrailResult", "RuleBinding", "RuleConflict"]
