"""Pricing: demand models, the market simulator and oracle, guardrails, policies and quotes.

The public names below are imported on first use (:func:`pricegraph.lazy_exports`):
``import pricegraph.pricing.config`` does not load the simulator or stable-baselines3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .baselines import (
        CompetitorMatchPolicy,
        CostPlusPolicy,
        MyopicPolicy,
        PricingPolicy,
        StaticListPolicy,
    )
    from .demand import DemandConfig, DemandModel
    from .demand_data import build_panel, panel_from_store
    from .demand_fit import fit_demand
    from .evaluation import compare_policies, evaluate_policy
    from .fairness import check_personalization_inputs
    from .forecast import ForecastConfig, evaluate_forecasts
    from .guardrail_config import GuardrailConfig, GuardrailRule
    from .guardrail_result import GuardrailResult, RuleBinding, RuleConflict
    from .guardrails import PriceContext, apply_guardrails, explain_guardrails, needs_approval
    from .guardrails_batch import apply_guardrails_batch
    from .market import MarketModel, MarketOutcome
    from .market_builders import market_from_demand, market_from_ground_truth
    from .oracle import OraclePolicy, solve_oracle
    from .policy import (
        LevelDecision,
        ListPricePolicy,
        MarketObservation,
        QuotePolicy,
        QuoteState,
    )
    from .price_memory import PriceMemory, announced_discount
    from .simulator import MarketEnv, PriceBounds, SimulatorConfig
    from .whatif import Scenario, WhatIfConfig, what_if

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".baselines": (
            "CompetitorMatchPolicy",
            "CostPlusPolicy",
            "MyopicPolicy",
            "PricingPolicy",
            "StaticListPolicy",
        ),
        ".demand": ("DemandConfig", "DemandModel"),
        ".demand_data": ("build_panel", "panel_from_store"),
        ".demand_fit": ("fit_demand",),
        ".evaluation": ("compare_policies", "evaluate_policy"),
        ".fairness": ("check_personalization_inputs",),
        ".forecast": ("ForecastConfig", "evaluate_forecasts"),
        ".guardrail_config": ("GuardrailConfig", "GuardrailRule"),
        ".guardrail_result": ("GuardrailResult", "RuleBinding", "RuleConflict"),
        ".guardrails": ("PriceContext", "apply_guardrails", "explain_guardrails", "needs_approval"),
        ".guardrails_batch": ("apply_guardrails_batch",),
        ".market": ("MarketModel", "MarketOutcome"),
        ".market_builders": ("market_from_demand", "market_from_ground_truth"),
        ".oracle": ("OraclePolicy", "solve_oracle"),
        ".policy": (
            "LevelDecision",
            "ListPricePolicy",
            "MarketObservation",
            "QuotePolicy",
            "QuoteState",
        ),
        ".price_memory": ("PriceMemory", "announced_discount"),
        ".simulator": ("MarketEnv", "PriceBounds", "SimulatorConfig"),
        ".whatif": ("Scenario", "WhatIfConfig", "what_if"),
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
