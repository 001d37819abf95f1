"""``pricegraph embed``: text vectors of products, brands and customers into Qdrant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import app, clear_errors, console, frame_table, load_settings, open_store

if TYPE_CHECKING:
    from ...embeddings.base import VectorStore
    from ...embeddings.pipeline import EmbedReport
    from ..settings import Settings


@contextmanager
def open_vectors(settings: Settings) -> Iterator[VectorStore]:
    """The configured vector store, closed afterwards."""
    from ...embeddings.vector_factory import make_vector_store

    vectors = make_vector_store(settings.vectors)
    try:
        yield vectors
    finally:
        vectors.close()


def collection_names(settings: Settings) -> dict[str, str]:
    """Kind -> collection name under the configured prefix."""
    from ...embeddings.pipeline import collection_specs

    specs = collection_specs(
        settings.vectors.collection_prefix,
        settings.embeddings.dimension,
        settings.vectors.graph_dim,
    )
    return {kind: spec.name for kind, spec in specs.items()}


def run_embed(
    settings: Settings,
    similar_edges: int,
    *,
    limit: int | None = None,
    collections: list[str] | None = None,
) -> EmbedReport:
    """Embed the catalog, then optionally write ``SIMILAR_TO`` edges; prints the report.

    Progress is a live display on a terminal, plain lines on standard error otherwise
    (logs, pipes, ``nohup``).
    """
    from rich.progress import Progress

    from ...embeddings.service import COLLECTIONS, embed_catalog
    from ...embeddings.similarity import write_similar_edges
    from ...progress import LinePrinter

    progress = Progress(console=console) if console.is_terminal else LinePrinter()
    with open_store(settings) as store, open_vectors(settings) as vectors:
        with progress:
            report = embed_catalog(
                store,
                vectors,
                embedding=settings.embeddings,
                vector_config=settings.vectors,
                progress=progress,
                limit=limit,
                collections=collections or COLLECTIONS,
            )
        console.print(frame_table(report.as_frame(), title="Embedding report"))
        console.print(f"model calls: {report.model_calls} ({report.texts_encoded} texts encoded)")
        left = {name: r.left for name, r in report.collections.items() if r.left}
        if left:
            console.print(
                "left for the next run (--limit): "
                + ", ".join(f"{n} {name}" for name, n in left.items())
            )
        if report.products_without_vector:
            console.print(
                f"customers not embedded: {report.products_without_vector:,} products have no "
                "current text vector yet; run `pricegraph embed --collection products` first "
                "(customer vectors are built from product vectors)"
            )
        customers = report.collections.get("customers")
        withheld = customers.withheld if customers is not None else 0
        if withheld:
            console.print(
                f"[yellow]{withheld:,} customer profile texts state demographics (age, income, "
                "marital status, ...) and were left out of the customer vectors[/]; "
                "PRICEGRAPH_EMBEDDINGS__ALLOW_DEMOGRAPHIC_TEXT=true embeds them"
            )
        if similar_edges:
            result = write_similar_edges(
                store, vectors, collection_names(settings)["products"], k=similar_edges
            )
            console.print(
                f"SIMILAR_TO edges (top {similar_edges}): {result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged"
            )
    return report


@app.command()
@clear_errors
def embed(
    similar_edges: Annotated[
        int,
        typer.Option(min=0, help="Also store each product's top-K neighbours as SIMILAR_TO edges."),
    ] = 0,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Encode or rewrite at most N items per collection (customers too); a later "
            "run does the rest.",
        ),
    ] = None,
    collection: Annotated[
        list[str] | None,
        typer.Option(help="Only this collection (products, brands, customers); repeatable."),
    ] = None,
) -> None:
    """Embed products, brands and customers (only what changed since the last run).

    Vectors go to the Qdrant server in PRICEGRAPH_VECTORS__URL, or to the
    embedded store under the data directory. Work is written in chunks as it goes:
    a stopped run resumes where it stopped (items already embedded with the same
    text are skipped). Progress is plain lines when standard output is not a terminal.
    """
    run_embed(load_settings(), similar_edges, limit=limit, collections=collection)
