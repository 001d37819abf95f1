"""``pricegraph guardrails``: the guardrails quotes use now, and the saved changes.

The same store the API reads (:meth:`~pricegraph.pricing.config.PricingConfig.guardrail_store`):
the settings' guardrails, or the last set saved by ``setGuardrails`` (the JSON file, or
the records database server's ``guardrail_changes`` with every change).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ._common import app, clear_errors, console, load_settings


@app.command()
@clear_errors
def guardrails(
    history: Annotated[
        int,
        typer.Option(min=0, max=1_000, help="Also list this many saved changes, newest first."),
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the guardrails in force (the settings', or the last saved by setGuardrails)."""
    from rich.table import Table

    pricing = load_settings().pricing
    store = pricing.guardrail_store()
    try:
        in_force = pricing.with_saved_guardrails(store).guardrails
        changes = store.history(history) if history else []
        where = store.where
        is_saved = store.version() is not None
    finally:
        store.close()
    source = f"saved ({where})" if is_saved else "settings"
    if as_json:
        payload = {
            "source": "saved" if is_saved else "settings",
            "guardrails": in_force.model_dump(mode="json"),
            "history": [
                {**record, "guardrails": config.model_dump(mode="json")}
                for config, record in changes
            ],
        }
        typer.echo(json.dumps(payload))
        return
    table = Table(title=f"Guardrails in force: {source}")
    table.add_column("setting")
    table.add_column("value")
    for name, value in in_force.model_dump(mode="json").items():
        table.add_row(name, _shown(value))
    console.print(table)
    settings = pricing.guardrails.model_dump(mode="json")
    for config, record in changes:
        changed = {
            name: value
            for name, value in config.model_dump(mode="json").items()
            if value != settings.get(name)
        }
        console.print(
            f"{record['changed_at']}  {record['changed_by']}: "
            f"{json.dumps(changed) if changed else 'the values of the settings'}",
            highlight=False,
            soft_wrap=True,
        )


def _shown(value: object) -> str:
    """A setting's value as the table shows it: ``off`` for a rule turned off, lists
    comma-separated."""
    if value is None:
        return "off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
