"""``pricegraph quote`` (one guarded, explained, audited price) and ``pricegraph audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import pandas as pd
import typer

from ...embeddings import VectorStore
from ...errors import VectorStoreError
from ...pricing.approvals import ApprovalQueue
from ...pricing.audit import AuditLog
from ...pricing.config import PricingConfig
from ...pricing.quote import Quote, QuoteService
from ..services import load_policy
from ..settings import Settings
from ._common import app, clear_errors, console, frame_table, load_settings, open_store
from .embed import collection_names, open_vectors


def run_quote(settings: Settings, customer: str, product: str, requested_by: str) -> Quote:
    """Quote one price with the configured policy; records it in the audit log."""
    pricing: PricingConfig = settings.pricing.with_saved_guardrails()  # paths resolved
    policy = load_policy(pricing)
    collections = collection_names(settings)
    with (
        open_store(settings) as store,
        open_vectors(settings) as vectors,
        AuditLog(pricing.audit_path) as audit,
        ApprovalQueue(pricing.audit_path) as approvals,
    ):
        service = QuoteService(
            store,
            _with_graph_vectors(vectors, collections),
            policy,
            pricing,
            None,
            audit,
            approvals=approvals,
            collections=collections,
        )
        return service.quote(customer, product, requested_by=requested_by)


def _with_graph_vectors(vectors: VectorStore, collections: dict[str, str]) -> VectorStore | None:
    try:
        has_both = all(vectors.count(collections[kind]) > 0 for kind in ("customers", "products"))
    except VectorStoreError:
        has_both = False
    return vectors if has_both else None  # nothing embedded yet: quote without vectors


@app.command()
@clear_errors
def quote(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    product: Annotated[str, typer.Argument(help="Product id.")],
    requested_by: Annotated[str, typer.Option(help="Who asks (API key id or user).")] = "cli",
) -> None:
    """Quote CUSTOMER a price for PRODUCT: guarded, explained and recorded in the audit log."""
    result = run_quote(load_settings(), customer, product, requested_by)
    rows = [
        ("price", f"{result.price:.2f}"),
        ("list price", f"{result.list_price:.2f}"),
        ("zone", f"{result.decision.zone} ({result.decision.zone_multiplier:.2f})"),
        ("segment multiplier", f"{result.decision.segment_multiplier:.3f}"),
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


@app.command()
@clear_errors
def audit(
    customer: Annotated[str | None, typer.Option(help="Only this customer's quotes.")] = None,
    product: Annotated[str | None, typer.Option(help="Only quotes of this product.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this UTC time on.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this UTC time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Records shown.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Records skipped.")] = 0,
) -> None:
    """List recorded quotes, oldest first, filtered by customer, product and time."""
    settings = load_settings()
    with AuditLog(settings.pricing.audit_path) as log:
        filters = {"customer_id": customer, "product_id": product, "since": since, "until": until}
        records = log.query(**filters, limit=limit, offset=offset)
        total = log.count(**filters)
    if not records:
        console.print(f"no quotes match ({total} in all with these filters)")
        return
    frame = pd.DataFrame(
        [
            {
                "ts": r.ts.isoformat(timespec="seconds"),
                "quote_id": r.quote_id,
                "customer": r.customer_id,
                "product": r.product_id,
                "price": r.output.get("price"),
                "pending": r.output.get("is_approval_pending"),
                "policy": r.model_versions.get("policy"),
                "by": r.requested_by,
            }
            for r in records
        ]
    )
    console.print(
        frame_table(
            frame, title=f"Quotes {offset + 1}-{offset + len(records)} of {total}", max_rows=limit
        )
    )
