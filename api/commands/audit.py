"""``pricegraph audit``: list recorded quotes (``--json`` for scripts), or replay one.

``--replay QUOTE_ID`` recomputes a recorded quote from its stored inputs with the
quote service every entry point builds
(:func:`~pricegraph.pricing.quotes.factory.build_quote_service`) and says whether it
matches: exit code 0 when it does, 1 when it does not (the differing fields are
listed), 2 for an unknown quote id (one line, as every data error).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import app, clear_errors, console, frame_table, load_settings

if TYPE_CHECKING:
    from ...pricing.quotes.audit import AuditRecord, ReplayResult
    from ..settings import Settings


def run_replay(settings: Settings, quote_id: str) -> ReplayResult:
    """Recompute ``quote_id`` with the configured policy and compare it with its record.

    Raises:
        NotFoundError: No quote ``quote_id`` in the audit log (checked before the
            stores and the policy are opened).
    """
    from ...pricing.quotes.audit import AuditLog
    from .quote import open_quote_service

    with AuditLog(settings.pricing.records_target()) as log:
        log.get(quote_id)
        with open_quote_service(settings, is_recorded=False) as service:
            return log.replay(quote_id, service)


def audit_record(record: AuditRecord) -> dict[str, Any]:
    """One audit record as JSON-ready values (``ts`` in ISO 8601 UTC)."""
    return {
        "quote_id": record.quote_id,
        "ts": record.ts.isoformat(),
        "requested_by": record.requested_by,
        "customer_id": record.customer_id,
        "product_id": record.product_id,
        "inputs": record.inputs,
        "model_versions": record.model_versions,
        "output": record.output,
    }


@app.command()
@clear_errors
def audit(
    customer: Annotated[str | None, typer.Option(help="Only this customer's quotes.")] = None,
    product: Annotated[str | None, typer.Option(help="Only quotes of this product.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this UTC time on.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this UTC time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Records shown.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Records skipped.")] = 0,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print a JSON list of whole records (or the replay result)."),
    ] = False,
    replay: Annotated[
        str | None,
        typer.Option(
            metavar="QUOTE_ID",
            help="Recompute this quote and say whether it matches (exit 0) or not (exit 1).",
        ),
    ] = None,
) -> None:
    """List recorded quotes, oldest first, filtered by customer, product and time."""
    import pandas as pd

    from ...pricing.quotes.audit import AuditLog

    settings = load_settings()
    if replay is not None:
        _print_replay(run_replay(settings, replay), as_json)
        return
    with AuditLog(settings.pricing.records_target()) as log:
        filters = {"customer_id": customer, "product_id": product, "since": since, "until": until}
        records = log.query(**filters, limit=limit, offset=offset)
        total = log.count(**filters)
    if as_json:
        typer.echo(json.dumps([audit_record(r) for r in records]))
        return
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


def _print_replay(result: ReplayResult, as_json: bool) -> None:
    """Print ``result``; exit code 1 when the recomputed quote differs from its record."""
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "quote_id": result.quote_id,
                    "is_match": result.is_match,
                    "differences": list(result.differences),
                }
            )
        )
    elif result.is_match:
        console.print(f"quote {result.quote_id} matches its record", highlight=False)
    else:
        console.print(f"quote {result.quote_id} does not match its record:", highlight=False)
        for line in result.differences:
            console.print(f"  {line}", highlight=False, soft_wrap=True)
    if not result.is_match:
        raise typer.Exit(code=1)


@app.command("copy-records")
@clear_errors
def copy_records(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="The SQLite file to copy from (default: pricing.audit_path, "
            "var/audit/quotes.sqlite)."
        ),
    ] = None,
    guardrails: Annotated[
        Path | None,
        typer.Option(
            help="The saved guardrails file to copy (default: pricing.guardrails_path, "
            "var/pricing/guardrails.json; skipped when there is none)."
        ),
    ] = None,
) -> None:
    """Copy one host's audit log, approvals and saved guardrails into the records server.

    From the SQLite and JSON files into PRICEGRAPH_PRICING__DATABASE_URL. What the
    server has already is kept, so running it again copies nothing more.
    """
    from ...errors import ConfigError
    from ...pricing.guardrails.store import GuardrailFile, GuardrailTable
    from ...pricing.quotes.approvals import ApprovalQueue
    from ...pricing.quotes.audit import AuditLog

    pricing = load_settings().pricing
    if pricing.database_url is None:
        raise ConfigError(
            "copy-records copies into the records database server: set "
            "PRICEGRAPH_PRICING__DATABASE_URL=postgresql://..."
        )
    source = source or pricing.audit_path
    guardrails = guardrails or pricing.guardrails_path
    if not source.is_file():
        raise ConfigError(f"{source}: no SQLite records file there to copy")
    target = pricing.database_url.get_secret_value()
    with AuditLog(source) as from_log, AuditLog(target) as to_log:
        quotes = to_log.copy_from(from_log)
        total = from_log.count()
    with ApprovalQueue(source) as from_queue, ApprovalQueue(target) as to_queue:
        approvals = to_queue.copy_from(from_queue)
        where = to_queue.database.where
    table = GuardrailTable(target)
    try:
        is_copied = table.copy_from(GuardrailFile(guardrails))
    finally:
        table.close()
    state = "copied" if is_copied else ("none saved" if not guardrails.is_file() else "in force")
    console.print(
        f"into {where}: {quotes} of {total} quotes copied (the others were there), "
        f"{approvals} approval entries copied, saved guardrails {state}",
        highlight=False,
    )
