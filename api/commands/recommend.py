"""``pricegraph recommend``: products for a customer, a product or a new product's text."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from ...errors import ConfigError
from ._common import Format, FormatOption, app, clear_errors, load_settings, open_store, print_rows


@app.command()
@clear_errors
def recommend(
    customer: Annotated[str | None, typer.Option(help="Products for this customer id.")] = None,
    product: Annotated[str | None, typer.Option(help="Products bought with this product.")] = None,
    text: Annotated[
        str | None, typer.Option(help="A new product's description: products like it.")
    ] = None,
    include_bought: Annotated[
        bool, typer.Option("--include-bought", help="Customer: keep products already bought.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Results.")] = 10,
    popularity_discount: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=5.0,
            help="0: the ranking as it is; larger: best sellers give way to less bought "
            "products among the 100 best (at 1, ten places for ten times fewer buyers). "
            "--customer and --product only.",
        ),
    ] = 0.0,
    format: FormatOption = Format.table,
    model: Annotated[
        Path | None,
        typer.Option(help="Encoder checkpoint (default <data_dir>/models/encoder/latest.pt)."),
    ] = None,
) -> None:
    """Recommend with the trained graph encoder; every pick comes with a reason.

    Needs `pricegraph train-gnn` first.
    """
    import pandas as pd

    from ...embeddings.service import encoder_factory
    from ...gnn.checkpoint import load_checkpoint
    from ...gnn.recommend_service import build_recommender

    chosen = [x for x in (customer, product, text) if x]
    if len(chosen) != 1:
        raise ConfigError("give exactly one of --customer, --product or --text")
    if text and popularity_discount:
        raise ConfigError(
            f"--popularity-discount {popularity_discount:g} applies to --customer and "
            "--product lists only, not to --text (a new product has no buyers to discount by)"
        )
    settings = load_settings()
    path = model or settings.data_dir / "models" / "encoder" / "latest.pt"
    if not path.exists():
        raise ConfigError(f"no encoder checkpoint at {path}: run 'pricegraph train-gnn' first")
    checkpoint = load_checkpoint(path)
    with open_store(settings) as store:
        recommender = build_recommender(store, checkpoint)
    if customer:
        picks = recommender.for_customer(
            customer, limit, include_bought=include_bought, popularity_discount=popularity_discount
        )
        title = f"For customer {customer}"
    elif product:
        picks = recommender.for_product(product, limit, popularity_discount=popularity_discount)
        title = f"Bought with {product}"
    else:
        vector = encoder_factory(settings.embeddings)().encode([text or ""])[0]
        picks = recommender.for_new_product(vector, limit, name="the new product")
        title = "Like the new product"
    rows = pd.DataFrame([asdict(p) for p in picks])
    if len(rows):
        rows["name"] = recommender.product_names(list(rows["product_id"]))
        rows = rows[["rank", "product_id", "name", "score", "reason"]].round({"score": 3})
    served = f", ranked by {checkpoint.served_by}" if customer else ""
    print_rows(rows, format, title=f"{title} (model {checkpoint.model_version}{served})")
