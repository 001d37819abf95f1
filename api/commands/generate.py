"""``pricegraph generate``: write a seeded synthetic luxury-fashion world to files."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ._common import app, clear_errors, console, load_settings

if TYPE_CHECKING:
    from ...synthetic.config import WorldConfig


def generate_to(
    config: WorldConfig,
    out: Path,
    file_format: Literal["csv", "parquet"],
    *,
    is_nasty: bool = False,
) -> Path:
    """Generate the world of ``config`` into ``out``; returns its ``mapping.toml``.

    With ``is_nasty``, the world first goes through :func:`~pricegraph.synthetic.nasty_world`
    (real files' quirks), and the quirks the written tables hold are printed.
    """
    from ...synthetic import generate_world, nasty_world, write_world
    from ...synthetic.nasty import nasty_quirks

    started = time.perf_counter()
    with console.status("Generating the synthetic world..."):
        world = generate_world(config)
        if is_nasty:
            try:
                world = nasty_world(world)
            except ValueError as exc:  # too few purchase lines for the huge and free ones
                raise typer.BadParameter(
                    f"{exc}; generate more --customers or --days", param_hint="--nasty"
                ) from None
        mapping = write_world(world, out, file_format=file_format)
    sizes = ", ".join(
        f"{len(getattr(world, name)):,} {name}"
        for name in ("brands", "categories", "products", "customers", "prices", "events")
    )
    console.print(f"Wrote {sizes} to {out} in {time.perf_counter() - started:.1f} s")
    if is_nasty:
        files = [entry["path"] for entry in tomllib.loads(mapping.read_text())["files"]]
        console.print(f"Files: {', '.join(files)}, mapping.toml", highlight=False)
        console.print("Quirks in these files:")
        for quirk in nasty_quirks(world):
            console.print(f"  - {quirk}", markup=False, highlight=False)
        console.print(
            "The ground truth is the clean world's: compare models against it only on a "
            "clean world."
        )
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
    is_nasty: Annotated[
        bool,
        typer.Option(
            "--nasty",
            help="Give the files real files' quirks (duplicated names, missing list prices, "
            "unicode, huge quantities, free items, idle customers) and list them.",
        ),
    ] = False,
) -> None:
    """Generate a synthetic luxury-fashion retailer: catalog, customers, prices, events.

    Events come from a known choice model; its parameters (segments, price
    sensitivities, brand affinities) are saved as ground truth beside the data.
    With ``--nasty`` the tables get the quirks of ``synthetic.nasty_world``; they
    stay valid, so ``pricegraph load`` keeps every row and notes the huge
    quantities.
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
    generate_to(
        config,
        out or settings.data_dir / "world",
        file_format,  # type: ignore[arg-type]
        is_nasty=is_nasty,
    )
