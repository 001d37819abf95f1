"""``pricegraph train-pricing``: train the hierarchical pricing policy on a synthetic world."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ...errors import ConfigError, DataValidationError, VectorStoreError
from ._common import (
    app,
    check_device,
    clear_errors,
    console,
    frame_table,
    load_settings,
    open_store,
    stage,
)
from .embed import collection_names, open_vectors

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ...pricing.customers.sensitivity import SensitivityModel
    from ...pricing.guardrails.config import GuardrailConfig
    from ...pricing.market.builders import GroundTruthMarketConfig
    from ...pricing.market.model import MarketModel
    from ...pricing.policies.training import PricingTrainConfig, PricingTrainResult
    from ..settings import Settings


def run_train_pricing(
    world: Path | MarketModel,
    config: PricingTrainConfig,
    out: Path,
    guardrails: GuardrailConfig | None = None,
    signal: tuple[SensitivityModel, dict[str, np.ndarray]] | None = None,
    validation_market: MarketModel | None = None,
) -> PricingTrainResult:
    """Train, evaluate and checkpoint with a progress display; print both tables
    (unconstrained, and as deployed through ``guardrails``) and, with a customer
    ``signal`` (model, graph vectors by customer), the personal level per customer.
    The micro gate plays on ``validation_market`` (see :func:`train_pricing`)."""
    from ...loaders.service import new_progress
    from ...pricing.evaluation.compare import summary_table
    from ...pricing.policies.training import train_pricing

    model, vectors = signal if signal is not None else (None, None)
    with new_progress() as progress:
        result = train_pricing(
            world, config, out, progress=progress, guardrails=guardrails,
            sensitivity=model, customer_vectors=vectors, validation_market=validation_market,
        )  # fmt: skip
    is_stochastic = config.simulator.is_stochastic
    demand = "Poisson" if is_stochastic else "expected"
    for summary, how in (
        (result.summary, f"unconstrained ({config.bound_low:g}-{config.bound_high:g} x list)"),
        (result.deployed_summary, "as deployed (the quote guardrails)"),
    ):
        if not len(summary):
            continue
        table, notes = summary_table(
            summary, is_stochastic=is_stochastic, num_runs=config.eval_episodes
        )
        title = f"{how}: {config.eval_episodes} seeds, {demand} demand"
        console.print(frame_table(table, title=title))
        for note in notes:
            console.print(note, highlight=False)
    if result.personal:
        p = result.personal
        console.print(
            f"personal level per customer (expected demand, as deployed): headroom of the "
            f"world {p['headroom_pct']:+.2f} % (group oracle over segment oracle), inside "
            f"the personal band {p['band_headroom_pct']:+.2f} %; captured "
            f"{p['captured_pct']:.0f} % of the band's, {p['captured_world_pct']:.0f} % of the "
            f"world's (full {p['full_profit']:,.0f} vs macro + meso "
            f"{p['macro_meso_profit']:,.0f})",
            highlight=False,
        )
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in result.timings_s.items())
    console.print(f"timings: {timings}")
    console.print(f"checkpoint {result.policy.version}: {result.checkpoint_path}")
    for name, path in result.plots.items():
        console.print(f"{name}: {path}")
    return result


def world_markets(
    settings: Settings, world: Path, config: GroundTruthMarketConfig
) -> tuple[MarketModel, MarketModel]:
    """The synthetic world's true market, its customers grouped by the graph's segments
    when ``pricegraph segments`` has run (so quotes price with their own segment's plan);
    else by the world's latent segments, which quotes never see (said on the console).
    And the same with other representative customers (sample seed + 1), where the
    micro gate plays (:func:`~pricegraph.pricing.policies.training.train_pricing`)."""
    from ...pricing.market.builders import market_from_world_dir
    from ...pricing.market.segments import regroup_by_segments
    from ...pricing.snapshot import customer_segments

    samples = (config, replace(config, seed=config.seed + 1))
    markets = [market_from_world_dir(world, config=sample) for sample in samples]
    with open_store(settings) as store:
        segment_of = customer_segments(store).to_dict()
    if not segment_of:
        console.print(
            "no customer segments in the graph: the policy plans per the world's latent "
            "segments, and quotes take the mean of their plans (run pricegraph segments)"
        )
        return markets[0], markets[1]
    market, validation = (regroup_by_segments(m, segment_of) for m in markets)
    console.print(f"segments: the graph's {', '.join(market.segment_names)}")
    return market, validation


def segment_version(segment_of: pd.Series) -> str | None:
    """The version (``v1`` of ``SEG-v1-3``) most customers' segments have; ``None``: none."""
    if segment_of.empty:
        return None
    versions = segment_of.astype(str).str.split("-").str[1]
    return str(versions.value_counts().index[0])


def graph_signal(settings: Settings) -> tuple[SensitivityModel, dict[str, np.ndarray]] | None:
    """Fit the customer sensitivity model on the graph's views and the graph vectors
    (:mod:`~pricegraph.pricing.customers.sensitivity`); ``None``, with the reason on the
    console, when the data cannot identify it (the personal level then uses the
    segment's slope, and quotes say so)."""
    from ...pricing.customers.sensitivity import fit_sensitivity
    from ...pricing.customers.states import (
        behaviour_basis,
        customer_ids,
        exposures_from_store,
        vector_state,
    )

    try:
        with open_store(settings) as store, open_vectors(settings) as vectors:
            keys = customer_ids(store)
            state = vector_state(vectors, collection_names(settings)["customers"], keys, "graph")
            table = exposures_from_store(store)
        if not len(state):
            raise VectorStoreError("no graph vectors (run pricegraph train-gnn)")
        encoder = settings.data_dir / "models" / "encoder" / "latest.pt"
        basis = behaviour_basis(encoder, state.shape[1])
        if basis is None:
            console.print(
                f"customer signal: no price-behaviour head in {encoder}; the graph vectors "
                "are reduced by PCA instead (retrain with pricegraph train-gnn)",
                highlight=False,
            )
        model = fit_sensitivity(table, state, "graph", basis=basis)
    except (DataValidationError, VectorStoreError) as exc:
        console.print(f"customer signal: none ({exc})", highlight=False)
        return None
    console.print(
        f"customer signal: price slope from graph vectors, {model.num_exposures:,} exposures, "
        f"penalty C={model.penalty:g} (validation), population slope {model.intercept:.2f}",
        highlight=False,
    )
    return model, dict(zip(state.index, state.to_numpy(), strict=True))


@app.command("train-pricing")
@clear_errors
def train_pricing_command(
    world: Annotated[
        Path | None, typer.Option(help="World folder (default: <data_dir>/world).")
    ] = None,
    from_graph: Annotated[
        bool,
        typer.Option(
            help="Train on your own products: a market from the demand model of the "
            "purchases in the graph (no synthetic world needed)."
        ),
    ] = False,
    products: Annotated[
        int, typer.Option(min=1, help="With --from-graph: best-selling products priced.")
    ] = 200,
    macro_steps: Annotated[int, typer.Option(min=1, help="PPO timesteps (periods).")] = 3_000,
    micro_steps: Annotated[int, typer.Option(min=1, help="TD3 timesteps (cells).")] = 20_000,
    explore_episodes: Annotated[
        int, typer.Option(min=1, help="Random-price episodes for the demand fit.")
    ] = 60,
    eval_episodes: Annotated[int, typer.Option(min=2, help="Evaluation seeds.")] = 5,
    inventory_scale: Annotated[
        float, typer.Option(min=0.0, help="Factor on the world's stock (< 1: stock binds).")
    ] = 0.1,
    device: Annotated[
        str | None, typer.Option(help="auto, cpu or cuda (default: settings.device).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: settings.seed).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Checkpoint folder (default <data_dir>/models/pricing).")
    ] = None,
) -> None:
    """Train the macro (PPO), meso (estimated demand + planner) and micro (TD3) pricing
    levels on a market simulator and compare them with the oracle and the baselines.

    The simulator comes from a synthetic world's ground truth (`pricegraph generate`
    first), or with --from-graph from the demand model fitted on the purchases in the
    graph, over your best-selling products with a list price (quotes refuse the others)
    and the coming 12 weeks (costs and stock from the Product nodes). The policy learns
    from interaction either way.
    """
    from ...pricing.config import DEFAULT_POLICY_DIR
    from ...pricing.demand.panel import PanelConfig
    from ...pricing.demand.store import fit_demand_from_store
    from ...pricing.market.from_store import market_from_store
    from ...pricing.market.model import MarketModel
    from ...pricing.policies.training import PricingTrainConfig
    from ...pricing.snapshot import customer_segments

    settings = load_settings()
    check_device(device or settings.device, "train-pricing options")
    source: Path | MarketModel
    if from_graph:
        building = stage("building the market from the graph's demand model")
        with building, open_store(settings) as store:
            version = segment_version(customer_segments(store))
            segment_model = None
            country = settings.pricing.holiday_country
            if version is not None:
                segment_model, _ = fit_demand_from_store(
                    store,
                    segment_version=version,
                    panel_config=PanelConfig(holiday_country=country),
                )
            source = market_from_store(
                store,
                max_products=products,
                default_cost_ratio=settings.pricing.default_cost_ratio,
                segment_model=segment_model,
                holiday_country=country,
            )
        console.print(
            f"market: {source.num_products} products, {source.num_categories} categories, "
            f"weeks {source.meta['weeks'][0]} to {source.meta['weeks'][-1]}, segments "
            + (
                ", ".join(source.segment_names)
                if version is not None
                else "none in the graph: one group (run pricegraph segments)"
            )
        )
        meta = source.meta
        if meta["cost_estimated"]:
            console.print(
                f"costs estimated for {meta['cost_estimated']} of {source.num_products} "
                f"products: {settings.pricing.default_cost_ratio:.0%} of list price "
                "(no cost in the catalog; PRICEGRAPH_PRICING__DEFAULT_COST_RATIO)"
            )
        if meta["outlier_lines"]:
            console.print(
                f"left out of the best sellers: {meta['outlier_lines']:,} purchase lines above "
                f"{meta['outlier_qty_limit']:g} units and {meta['outlier_products']} products "
                "sold mostly in such quantities"
            )
        if meta["no_list_price"]:
            console.print(
                f"{meta['no_list_price']} products without a list price left out of the market "
                "(quotes refuse them too)"
            )
    else:
        source = world or settings.data_dir / "world"
        if not (source / "ground_truth").is_dir():
            raise ConfigError(
                f"{source}: no ground_truth folder; run 'pricegraph generate' first, "
                "or train on your data with --from-graph"
            )
    base = PricingTrainConfig()
    try:
        config = replace(
            base,
            market=replace(base.market, inventory_scale=inventory_scale),
            macro=replace(base.macro, total_timesteps=macro_steps),
            micro=replace(base.micro, total_timesteps=micro_steps),
            meso=replace(base.meso, explore_episodes=explore_episodes),
            eval_episodes=eval_episodes,
            seed=settings.seed if seed is None else seed,
            device=device or settings.device,
        )
    except ValueError as exc:
        raise ConfigError(f"train-pricing options: {exc}") from None
    signal, validation = None, None
    if not isinstance(source, MarketModel):
        source, validation = world_markets(settings, source, config.market)
        signal = graph_signal(settings)
    guardrails = settings.pricing.with_saved_guardrails().guardrails
    folder = out or settings.data_dir / DEFAULT_POLICY_DIR
    run_train_pricing(source, config, folder, guardrails, signal, validation)
