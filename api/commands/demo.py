"""``pricegraph demo``: the main job on the embedded defaults, end to end."""

from __future__ import annotations

from typing import Annotated

import typer

from ...loaders import load_files, read_mapping
from ...loaders.synthetic_config import WorldConfig
from ._common import app, clear_errors, console, load_settings, open_store, print_report
from .embed import run_embed
from .generate import generate_to
from .stats import stats


@app.command()
@clear_errors
def demo(
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 2000,
    products: Annotated[int, typer.Option(min=1, help="Number of products.")] = 600,
    days: Annotated[int, typer.Option(min=1, help="Days of events.")] = 180,
    embed: Annotated[
        bool, typer.Option(help="Embed products, brands and customers (text model, Qdrant).")
    ] = True,
) -> None:
    """Generate the synthetic world, load it into the graph, embed it and show what is there.

    Safe to run again: the world is the same for the same seed and the load is
    idempotent.
    """
    settings = load_settings()
    out = settings.data_dir / "world"
    config = WorldConfig(
        seed=settings.seed,
        n_customers=customers,
        n_products=products,
        n_brands=min(24, products),
        n_days=days,
    )
    mapping = generate_to(config, out, "csv")
    with open_store(settings) as store:
        report = load_files(
            store,
            read_mapping(mapping),
            rejects_dir=settings.data_dir / "rejects",
            chunk_rows=settings.loaders.chunk_rows,
        )
    print_report(report)
    if embed:
        run_embed(settings, similar_edges=10)
    stats()
    console.print(
        '\nTry: pricegraph similar --text "black leather shoulder bag" --max-price 2000\n'
        '     pricegraph query "MATCH (c:Customer)-[p:PURCHASED]->(x:Product) '
        'RETURN x.name AS product, count(*) AS sales ORDER BY sales DESC LIMIT 5"',
        markup=False,
        highlight=False,
    )
