"""Pricing: demand models, the market simulator and oracle, guardrails, policies and quotes."""

from pricegraph.pricing.baselines import (
    CompetitorMatchPolicy,
    CostPlusPolicy,
    MyopicPolicy,
    PricingPolicy,
    StaticListPolicy,
)
from pricegraph.pricing.demand import DemandConfig, DemandModel
from pricegraph.pricing.demand_data import build_panel, panel_from_store
from pricegraph.pricing.demand_fit import fit_demand
from pricegraph.pricing.evaluation import compare_policies, evaluate_policy
from pricegraph.pricing.fairness import check_personalization_inputs
from pricegraph.pricing.forecast import ForecastConfig, evaluate_forecasts
from pricegraph.pricing.guardrail_config import GuardrailConfig, GuardrailRule
from pricegraph.pricing.guardrail_result import GuardrailResult, RuleBinding, RuleConflict
from pricegraph.pricing.guardrails import (
    PriceContext,
    apply_guardrails,
    explain_guardrails,
    needs_approval,
)
from pricegraph.pricing.guardrails_batch import apply_guardrails_batch
from pricegraph.pricing.market import MarketModel, MarketOutcome
from pricegraph.pricing.market_builders import market_from_demand, market_from_ground_truth
from pricegraph.pricing.oracle import OraclePolicy, solve_oracle
from pricegraph.pricing.policy import (
    LevelDecision,
    ListPricePolicy,
    MarketObservation,
    QuotePolicy,
    QuoteState,
)
from pricegraph.pricing.price_memory import PriceMemory, announced_discount
from pricegraph.pricing.simulator import MarketEnv, PriceBounds, SimulatorConfig
from pricegraph.pricing.whatif import Scenario, WhatIfConfig, what_if

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
