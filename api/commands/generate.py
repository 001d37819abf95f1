"""``pricegraph generate``: write a seeded synthetic luxury-fashion world to files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ._common import app, clear_errors, console, load_settings

if TYPE_CHECKING:
    from ...synthetic.config import WorldConfig


def generate_to(config: WorldConfig, out: Path, file_format: Literal["csv", "parquet"]) -> Path:
    """Generate the world of ``config`` into ``out``; returns its ``mapping.toml``."""
    from ...synthetic import generate_world, write_world

    started = time.perf_counter()
    with console.status("Generating the synthetic world..."):
        world = generate_world(config)
        mapping = write_world(world, out, file_format=file_format)
    sizes = ", ".join(
        f"{len(getattr(world, name)):,} {name}"
        for name in ("brands", "categories", "products", "customers", "prices", "events")
    )
    console.print(f"Wrote {sizes} to {out} in {time.perf_counter() - started:.1f} s")
    console.print(
        f"Ground truth in {out / 'ground_truth'}; load it with: pricegraph load {mapping}"
    )
    return mapping


@app.command()
@clear_errors
def generate(
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: <data_dir>/world).")
    ] = None,
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 2000,
    products: Annotated[int, typer.Option(min=1, help="Number of products.")] = 600,
    brands: Annotated[int, typer.Option(min=1, help="Number of brands.")] = 24,
    days: Annotated[int, typer.Option(min=1, help="Days of events.")] = 180,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: settings.seed).")] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Generate a synthetic luxury-fashion retailer: catalog, customers, prices, events.

    Events come from a known choice model; its parameters (segments, price
    sensitivities, brand affinities) are saved as ground truth beside the data.
    """
    from ...synthetic.config import WorldConfig

    settings = load_settings()
    if file_format not in ("csv", "parquet"):
        raise typer.BadParameter("expected csv or parquet", param_hint="--format")
    config = WorldConfig(
        seed=settings.seed if seed is None else seed,
        n_customers=customers,
        n_products=products,
        n_brands=brands,
        n_days=days,
    )
    generate_to(config, out or settings.data_dir / "world", file_format)  # type: ignore[arg-type]
