"""``pricegraph demo``: the main job on the embedded defaults, end to end.

Generate the synthetic world, load it, embed it, train the graph encoder, build the
segments, fit the demand model, train the pricing policy, then serve GraphQL with
example queries that use real ids of the world. Every step is one of the commands,
so the demo shows what a user runs by hand.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from ...errors import ConfigError
from ._common import (
    app,
    check_device,
    clear_errors,
    console,
    load_settings,
    open_store,
    print_report,
)
from .embed import run_embed
from .fit_demand import run_fit_demand
from .generate import generate_to
from .segments import run_segments
from .serve import example_ids, example_queries, run_server
from .stats import stats
from .train_gnn import run_train_gnn
from .train_pricing import graph_signal, run_train_pricing, world_markets

if TYPE_CHECKING:
    from ...pricing.market.builders import GroundTruthMarketConfig
    from ..config import ApiConfig


def _step(number: int, total: int, name: str) -> None:
    console.rule(f"[bold]{number}/{total} {name}")


def demo_keys(config: ApiConfig) -> tuple[ApiConfig, str | None]:
    """The API section with keys: the configured ones, or fresh demo keys (one per role).

    Returns:
        The section, and the demo's pricing key to print (``None`` with configured keys).
    """
    from pydantic import SecretStr

    from ..config import ApiKey

    if config.keys:
        return config, None
    keys = {role: secrets.token_urlsafe(24) for role in ("reader", "pricing", "admin")}
    demo = tuple(ApiKey(name=f"demo-{r}", key=SecretStr(k), role=r) for r, k in keys.items())
    console.print(
        "No API keys configured: this demo server uses fresh keys (set PRICEGRAPH_API__KEYS "
        "for your own):\n" + "\n".join(f"  {role:8} {key}" for role, key in keys.items()),
        highlight=False,
        soft_wrap=True,
    )
    return config.model_copy(update={"keys": demo}), keys["pricing"]


def check_days(days: int, market: GroundTruthMarketConfig) -> None:
    """Refuse a world too short for the pricing market, before the demo does any work
    (train-pricing, its last step, would stop on it after every other step ran).

    Raises:
        ConfigError: ``"--days N: ..."``, naming the minimum: ``start_day`` plus
            ``num_periods * period_days`` of ``market``.
    """
    needed = market.start_day + market.num_periods * market.period_days
    if days < needed:
        raise ConfigError(
            f"--days {days}: the demo trains pricing on {market.num_periods} periods of "
            f"{market.period_days} days from day {market.start_day}, so it needs --days "
            f"{needed} or more (or --no-train)"
        )


@app.command()
@clear_errors
def demo(
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 2000,
    products: Annotated[int, typer.Option(min=1, help="Number of products.")] = 600,
    days: Annotated[int, typer.Option(min=1, help="Days of events.")] = 180,
    embed: Annotated[
        bool, typer.Option(help="Embed products, brands and customers (text model, Qdrant).")
    ] = True,
    train: Annotated[
        bool,
        typer.Option(help="Train the encoder, segment, fit demand, train pricing (needs embed)."),
    ] = True,
    serve: Annotated[bool, typer.Option(help="Serve GraphQL at the end (Ctrl-C stops).")] = True,
    gnn_epochs: Annotated[int, typer.Option(min=1, help="Most encoder epochs.")] = 30,
    evaluate: Annotated[
        bool, typer.Option(help="Compare the encoder with the baselines (slower).")
    ] = False,
    pricing_steps: Annotated[int, typer.Option(min=1, help="PPO (macro) timesteps.")] = 3_000,
    micro_steps: Annotated[int, typer.Option(min=1, help="TD3 (micro) timesteps.")] = 20_000,
    port: Annotated[int | None, typer.Option(help="Server port (default: api.port).")] = None,
) -> None:
    """Run the whole chain on the embedded defaults: generate the synthetic world, load,
    embed, train the graph encoder, build segments, fit demand, train the pricing
    policy, then serve GraphQL and print example queries to try.

    Safe to run again: the world is the same for the same seed, the load is
    idempotent, the encoder and the pricing policy get new versions, and the demand
    model and the segments (version v1) are rewritten. Training needs --days of at
    least the pricing market's periods (84 with the defaults); fewer are refused
    before the first step.
    """
    from ...gnn.service import GnnRunConfig
    from ...gnn.train import EncoderConfig
    from ...loaders.mapping import read_mapping
    from ...loaders.service import load_files
    from ...pricing.config import DEFAULT_POLICY_DIR
    from ...pricing.policies.training import PricingTrainConfig
    from ...segments.clustering import SegmentConfig
    from ...synthetic.config import WorldConfig
    from ..services import api_section

    settings = load_settings()
    check_device(settings.device, "PRICEGRAPH_DEVICE")
    train = train and embed  # the encoder reads the text vectors
    base = PricingTrainConfig()
    if train:
        check_days(days, base.market)
    total = 1 + embed + 4 * train + serve
    number = 1
    _step(number, total, "generate the synthetic world and load it into the graph")
    world = settings.data_dir / "world"
    config = WorldConfig(
        seed=settings.seed,
        n_customers=customers,
        n_products=products,
        n_brands=min(24, products),
        n_days=days,
    )
    mapping = generate_to(config, world, "csv")
    with open_store(settings) as store:
        report = load_files(
            store,
            read_mapping(mapping),
            rejects_dir=settings.data_dir / "rejects",
            chunk_rows=settings.loaders.chunk_rows,
        )
    print_report(report)
    stats()
    if embed:
        number += 1
        _step(number, total, "embed product, brand and customer texts")
        run_embed(settings, similar_edges=10)
    if train:
        number += 1
        _step(number, total, "train the graph encoder, write graph vectors")
        encoder = replace(
            EncoderConfig(),
            max_epochs=gnn_epochs,
            device=settings.device,
            seed=settings.seed,
            embedding_dim=settings.vectors.graph_dim,
        )
        run_train_gnn(
            settings,
            GnnRunConfig(encoder=encoder, evaluate=evaluate),
            settings.data_dir / "models" / "encoder",
        )
        number += 1
        _step(number, total, "customer segments")
        segments = SegmentConfig(seed=settings.seed)
        run_segments(settings, segments, settings.data_dir / "segments.png")
        run_embed(settings, similar_edges=10)  # customer payloads now carry their segment
        number += 1
        _step(number, total, "fit the demand model (for what-if)")
        run_fit_demand(settings)
        number += 1
        _step(number, total, "train the hierarchical pricing policy")
        pricing = replace(
            base,
            macro=replace(base.macro, total_timesteps=pricing_steps),
            micro=replace(base.micro, total_timesteps=micro_steps),
            seed=settings.seed,
            device=settings.device,
        )
        guardrails = settings.pricing.with_saved_guardrails().guardrails
        market, validation = world_markets(settings, world, pricing.market)
        signal = graph_signal(settings)
        folder = settings.data_dir / DEFAULT_POLICY_DIR
        run_train_pricing(market, pricing, folder, guardrails, signal, validation)
    customer, product = example_ids(settings)
    api = api_section(settings)
    if port is not None:
        api = api.model_copy(update={"port": port})
    if not serve:
        console.print(
            "\nDone. Serve it with: pricegraph serve\n"
            + example_queries(f"http://{api.host}:{api.port}/graphql", None, customer, product),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        return
    number += 1
    _step(number, total, "serve GraphQL")

    api, key = demo_keys(api)
    url = f"http://{api.host}:{api.port}/graphql"
    # reload: train-pricing wrote models/pricing/latest after these settings were read
    settings = load_settings()
    console.print(
        example_queries(url, key, customer, product), highlight=False, markup=False, soft_wrap=True
    )
    run_server(settings, api)
