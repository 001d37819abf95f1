"""Pricing: demand models, the market simulator and oracle, guardrails, policies and quotes.

One subpackage per concept, each importing only those listed before it:
:mod:`.records` (the database of the audit log, the approval queue and the saved
guardrails; no other), :mod:`.demand` (no other), :mod:`.guardrails` (records),
:mod:`.market` (demand), :mod:`.customers`, :mod:`.evaluation` (market, guardrails),
:mod:`.policies` (macro, meso, micro, the hierarchy and its training) and
:mod:`.quotes` (state, service, explanations, audit, approvals). :mod:`.policy` is the
contract between the policies and the quote service, :mod:`.config` the settings,
:mod:`.snapshot` the graph facts quotes and customer states read
(``tests/test_layering.py`` keeps this order).

The public names below are imported on first use (:func:`pricegraph.lazy_exports`):
``import pricegraph.pricing.config`` does not load the simulator or stable-baselines3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .demand.fit import fit_demand
    from .demand.forecast import ForecastConfig, evaluate_forecasts
    from .demand.model import DemandConfig, DemandModel
    from .demand.panel import build_panel, panel_from_store
    from .demand.whatif import Scenario, WhatIfConfig, what_if
    from .evaluation.baselines import (
        CompetitorMatchPolicy,
        CostPlusPolicy,
        MyopicPolicy,
        PricingPolicy,
        StaticListPolicy,
    )
    from .evaluation.compare import compare_policies, evaluate_policy
    from .guardrails.apply import PriceContext, apply_guardrails, explain_guardrails, needs_approval
    from .guardrails.batch import apply_guardrails_batch
    from .guardrails.config import GuardrailConfig, GuardrailRule
    from .guardrails.fairness import check_personalization_inputs
    from .guardrails.memory import PriceMemory, announced_discount
    from .guardrails.result import GuardrailResult, RuleBinding, RuleConflict
    from .market.builders import market_from_demand, market_from_ground_truth
    from .market.model import MarketModel, MarketOutcome
    from .market.oracle import OraclePolicy, solve_oracle
    from .market.simulator import MarketEnv, PriceBounds, SimulatorConfig
    from .policy import (
        LevelDecision,
        ListPricePolicy,
        MarketObservation,
        QuotePolicy,
        QuoteState,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".evaluation.baselines": (
            "CompetitorMatchPolicy",
            "CostPlusPolicy",
            "MyopicPolicy",
            "PricingPolicy",
            "StaticListPolicy",
        ),
        ".demand.model": ("DemandConfig", "DemandModel"),
        ".demand.panel": ("build_panel", "panel_from_store"),
        ".demand.fit": ("fit_demand",),
        ".evaluation.compare": ("compare_policies", "evaluate_policy"),
        ".guardrails.fairness": ("check_personalization_inputs",),
        ".demand.forecast": ("ForecastConfig", "evaluate_forecasts"),
        ".guardrails.config": ("GuardrailConfig", "GuardrailRule"),
        ".guardrails.result": ("GuardrailResult", "RuleBinding", "RuleConflict"),
        ".guardrails.apply": (
            "PriceContext",
            "apply_guardrails",
            "explain_guardrails",
            "needs_approval",
        ),
        ".guardrails.batch": ("apply_guardrails_batch",),
        ".market.model": ("MarketModel", "MarketOutcome"),
        ".market.builders": ("market_from_demand", "market_from_ground_truth"),
        ".market.oracle": ("OraclePolicy", "solve_oracle"),
        ".policy": (
            "LevelDecision",
            "ListPricePolicy",
            "MarketObservation",
            "QuotePolicy",
            "QuoteState",
        ),
        ".guardrails.memory": ("PriceMemory", "announced_discount"),
        ".market.simulator": ("MarketEnv", "PriceBounds", "SimulatorConfig"),
        ".demand.whatif": ("Scenario", "WhatIfConfig", "what_if"),
    },
)

__all__ = [
    "CompetitorMatchPolicy",
    "CostPlusPolicy",
    "DemandConfig",
    "DemandModel",
    "ForecastConfig",
    "GuardrailConfig",
    "GuardrailResult",
    "GuardrailRule",
    "LevelDecision",
    "ListPricePolicy",
    "MarketEnv",
    "MarketModel",
    "MarketObservation",
    "MarketOutcome",
    "MyopicPolicy",
    "OraclePolicy",
    "PriceBounds",
    "PriceContext",
    "PriceMemory",
    "PricingPolicy",
    "QuotePolicy",
    "QuoteState",
    "RuleBinding",
    "RuleConflict",
    "Scenario",
    "SimulatorConfig",
    "StaticListPolicy",
    "WhatIfConfig",
    "announced_discount",
    "apply_guardrails",
    "apply_guardrails_batch",
    "build_panel",
    "check_personalization_inputs",
    "compare_policies",
    "evaluate_forecasts",
    "evaluate_policy",
    "explain_guardrails",
    "fit_demand",
    "market_from_demand",
    "market_from_ground_truth",
    "needs_approval",
    "panel_from_store",
    "solve_oracle",
    "what_if",
]
