"""``pricegraph quote``: one guarded, explained, audited price (``--json``: the record).

The quote service comes from :func:`~pricegraph.pricing.quotes.factory.build_quote_service`,
as the API's does, so the CLI and the API quote a pair alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import app, clear_errors, console, frame_table, load_settings, open_store
from .embed import collection_names, open_vectors

if TYPE_CHECKING:
    from ...pricing.quotes.service import Quote, QuoteService
    from ..settings import Settings


@contextmanager
def open_quote_service(settings: Settings, *, is_recorded: bool = True) -> Iterator[QuoteService]:
    """The quote service over the configured stores, closed afterwards.

    Args:
        settings: The root settings.
        is_recorded: Record quotes in the audit log and file changes in the approval
            queue (``False`` for replays, which only recompute).

    Raises:
        ConfigError, ModelError: As :func:`~pricegraph.pricing.quotes.factory.build_quote_service`.
    """
    from ...pricing.quotes.factory import build_quote_service, open_recorders

    with ExitStack() as stack:
        store = stack.enter_context(open_store(settings))
        vectors = stack.enter_context(open_vectors(settings))
        audit = approvals = None
        if is_recorded:
            audit, approvals = (stack.enter_context(p) for p in open_recorders(settings.pricing))
        yield build_quote_service(
            store,
            vectors,
            settings.pricing,
            collections=collection_names(settings),
            audit=audit,
            approvals=approvals,
        )


def run_quote(settings: Settings, customer: str, product: str, requested_by: str) -> Quote:
    """Quote one price with the configured policy; records it in the audit log."""
    with open_quote_service(settings) as service:
        return service.quote(customer, product, requested_by=requested_by)


def quote_record(quote: Quote) -> dict[str, Any]:
    """The whole quote as JSON-ready values: every field of the API's ``PersonalizedPrice``
    (snake_case, ``model_versions`` as a name -> version object), ``ts`` in ISO 8601 UTC.

    The dataclass is dumped as a whole, so fields added to the quote or its decision
    appear here without a change.
    """
    from ...pricing.quotes.result import to_plain

    record = to_plain(quote, is_json=True)
    record["ts"] = quote.ts.isoformat()
    return record


@app.command()
@clear_errors
def quote(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    product: Annotated[str, typer.Argument(help="Product id.")],
    requested_by: Annotated[str, typer.Option(help="Who asks (API key id or user).")] = "cli",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole quote record as one JSON object.")
    ] = False,
) -> None:
    """Quote CUSTOMER a price for PRODUCT: guarded, explained and recorded in the audit log."""
    import pandas as pd

    result = run_quote(load_settings(), customer, product, requested_by)
    if as_json:
        typer.echo(json.dumps(quote_record(result)))
        return
    rows = [
        ("price", f"{result.price:.2f}"),
        ("list price", f"{result.list_price:.2f}"),
        ("currency", result.currency or "none stored"),
        ("cost", "estimated (none stored)" if result.cost_estimated else "stored"),
        ("zone", f"{result.decision.zone} ({result.decision.zone_multiplier:.2f})"),
        ("plan period", "-" if result.decision.period is None else str(result.decision.period)),
        ("segment multiplier", f"{result.decision.segment_multiplier:.3f}"),
        ("priced segments", ", ".join(result.decision.priced_segments) or "-"),
        ("personal adjustment", f"{result.decision.personal_adjustment:+.3f}"),
        ("bound rules", ", ".join(f"{b.name} {b.delta:+.2f}" for b in result.bound_rules) or "-"),
        ("personalised", "yes" if result.is_personalized else "no"),
        (
            "reference price (30 d)",
            "-" if result.reference_price is None else f"{result.reference_price:.2f}",
        ),
        ("approval", "pending" if result.is_approval_pending else "not needed"),
        ("quote id", result.quote_id),
    ]
    console.print(frame_table(pd.DataFrame(rows, columns=["field", "value"]), title="Quote"))
    console.print(result.rationale, highlight=False, soft_wrap=True)
