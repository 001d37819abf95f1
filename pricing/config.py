"""Settings of the pricing section (``PRICEGRAPH_PRICING__*``): guardrails, audit, policy.

Percentages are in percent, money gross in the shop currency, durations in days.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .guardrail_config import GuardrailConfig


class PricingConfig(BaseModel):
    """How quotes are made, guarded and recorded.

    Attributes:
        guardrails: The hard guardrails every quoted price satisfies
            (``PRICEGRAPH_PRICING__GUARDRAILS__MIN_MARGIN_PCT=12``).
        audit_path: SQLite file of the quote audit log and the approval queue;
            a relative path is resolved against the data directory
            (default ``audit/quotes.sqlite``).
        policy_path: Checkpoint folder of the trained hierarchical policy;
            ``None``: quote at list price (:class:`~pricegraph.pricing.policy.ListPricePolicy`).
            Relative paths are resolved against the data directory.
        period_days: Length of a pricing period in days, in ``[1, 366]``; the
            quote state's ``period`` is ``(day of year - 1) // period_days``.
        default_cost_ratio: Unit cost as a fraction of the list price, in ``(0, 1]``,
            for products without a cost; the rationale then says the cost was estimated.
    """

    model_config = ConfigDict(extra="forbid")

    guardrails: GuardrailConfig = Field(default_factory=GuardrailConfig)
    audit_path: Path = Path("audit/quotes.sqlite")
    policy_path: Path | None = None
    period_days: int = Field(default=7, ge=1, le=366)
    default_cost_ratio: float = Field(default=0.6, gt=0, le=1)

    def resolved(self, data_dir: Path) -> PricingConfig:
        """A copy whose relative paths are resolved against ``data_dir``."""
        changes: dict[str, Path] = {}
        if not self.audit_path.is_absolute():
            changes["audit_path"] = data_dir / self.audit_path
        if self.policy_path is not None and not self.policy_path.is_absolute():
            changes["policy_path"] = data_dir / self.policy_path
        return self.model_copy(update=changes)


__all__ = ["PricingConfig"]
