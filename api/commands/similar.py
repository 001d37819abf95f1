"""``pricegraph similar``: products or customers like an item, a text, or examples."""

from __future__ import annotations

from typing import Annotated

import typer

from ...errors import ConfigError
from ._common import Format, FormatOption, app, clear_errors, load_settings, print_rows
from .embed import collection_names, open_vectors


@app.command()
@clear_errors
def similar(
    product: Annotated[str | None, typer.Option(help="Products like this product id.")] = None,
    text: Annotated[str | None, typer.Option(help="Products matching this text.")] = None,
    customer: Annotated[str | None, typer.Option(help="Customers like this customer id.")] = None,
    positive: Annotated[
        list[str] | None, typer.Option(help="Recommend like these product ids (repeatable).")
    ] = None,
    negative: Annotated[
        list[str] | None, typer.Option(help="... and unlike these (repeatable).")
    ] = None,
    brand: Annotated[str | None, typer.Option(help="Only this brand id.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category id (any level).")] = None,
    min_price: Annotated[float | None, typer.Option(help="Lowest list price.")] = None,
    max_price: Annotated[float | None, typer.Option(help="Highest list price.")] = None,
    in_stock: Annotated[bool, typer.Option("--in-stock", help="Only products in stock.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Results.")] = 10,
    format: FormatOption = Format.table,
) -> None:
    """Find similar products (by id, text or examples) or similar customers."""
    import pandas as pd

    from ...embeddings.service import encoder_factory
    from ...embeddings.similarity import ProductFilter, Similarity

    chosen = [x for x in (product, text, customer, positive) if x]
    if len(chosen) != 1:
        raise ConfigError("give exactly one of --product, --text, --customer or --positive")
    settings = load_settings()
    where = ProductFilter(
        brand=brand,
        category=category,
        min_price=min_price,
        max_price=max_price,
        is_in_stock=True if in_stock else None,
    )
    with open_vectors(settings) as vectors:
        service = Similarity(
            vectors, collection_names(settings), encoder_factory(settings.embeddings)
        )
        if product:
            hits = service.similar_products(product, limit=limit, where=where)
        elif text:
            hits = service.products_matching(text, limit=limit, where=where)
        elif customer:
            hits = service.similar_customers(customer, limit=limit)
        else:
            hits = service.recommend_products(
                positive or [], negative or [], limit=limit, where=where
            )
    shown = [
        "name",
        "brand_name",
        "category_path",
        "price",
        "currency",
        "in_stock",
        "country",
        "segment",
        "events",
    ]
    rows = [
        {
            "key": h.key,
            "score": round(h.score, 4),
            **{k: h.payload.get(k) for k in shown if k in h.payload},
        }
        for h in hits
    ]
    print_rows(pd.DataFrame(rows), format, max_rows=limit)
