"""``pricegraph config``: the settings in force, secrets masked."""

from __future__ import annotations

import json

from ._common import app, clear_errors, console, load_settings


@app.command()
@clear_errors
def config() -> None:
    """Print the settings in force (environment, .env, pricegraph.toml); secrets masked."""
    console.print_json(json.dumps(load_settings().describe()))
