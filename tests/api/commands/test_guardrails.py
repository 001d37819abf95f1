"""``pricegraph guardrails``: the set in force and the saved changes, from the file or the
records database server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_cli as _run

from pricegraph.api.settings import Settings
from pricegraph.pricing.guardrails.config import GuardrailConfig


def test_the_settings_then_a_saved_change(env: Path) -> None:
    shown = json.loads(_run("guardrails", "--json"))
    assert shown["source"] == "settings" and shown["history"] == []
    assert shown["guardrails"]["min_margin_pct"] == 10.0
    store = Settings().pricing.guardrail_store()  # as the API's setGuardrails saves
    store.save(GuardrailConfig().updated(min_margin_pct=14.5), "ops-desk")
    shown = json.loads(_run("guardrails", "--json", "--history", "5"))
    assert shown["source"] == "saved" and shown["guardrails"]["min_margin_pct"] == 14.5
    (change,) = shown["history"]  # the file keeps the last change only
    assert change["changed_by"] == "ops-desk" and change["guardrails"]["min_margin_pct"] == 14.5
    table = _run("guardrails", "--history", "1")
    assert "Guardrails in force: saved" in table and "14.5" in table
    assert 'ops-desk: {"min_margin_pct": 14.5}' in table


def test_with_a_records_server_every_change_is_listed(
    env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICEGRAPH_PRICING__DATABASE_URL", postgres_url)
    store = Settings().pricing.guardrail_store()
    try:
        store.save(GuardrailConfig().updated(min_margin_pct=12.0), "ops-desk")
        store.save(GuardrailConfig().updated(approval_threshold_pct=None), "risk-desk")
    finally:
        store.close()
    shown = json.loads(_run("guardrails", "--json", "--history", "10"))
    assert shown["guardrails"]["approval_threshold_pct"] is None
    assert shown["guardrails"]["min_margin_pct"] == 10.0  # the newest change is whole
    assert [c["changed_by"] for c in shown["history"]] == ["risk-desk", "ops-desk"]
    assert "password" not in _run("guardrails")
