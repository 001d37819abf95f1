"""Tests of saved guardrails: round trip, precedence over the settings, clear errors, in
the file and in the records database (SQLite always, PostgreSQL when a test server is set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pricegraph.errors import ConfigError
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.guardrails.store import (
    GuardrailFile,
    GuardrailTable,
    read_guardrails,
    save_guardrails,
)


def test_saved_guardrails_round_trip_and_take_precedence(tmp_path: Path) -> None:
    pricing = PricingConfig().resolved(tmp_path)
    assert pricing.guardrails_path == tmp_path / "pricing" / "guardrails.json"
    assert pricing.with_saved_guardrails() == pricing  # nothing saved: the settings
    changed = GuardrailConfig().updated(min_margin_pct=17.5, max_personal_deviation_pct=5.0)
    save_guardrails(pricing.guardrails_path, changed, "ops-desk")
    guardrails, record = read_guardrails(pricing.guardrails_path)  # type: ignore[misc]
    assert guardrails == changed
    assert record["changed_by"] == "ops-desk" and record["changed_at"]
    in_force = pricing.with_saved_guardrails().guardrails
    assert in_force.min_margin_pct == 17.5 and in_force.max_personal_deviation_pct == 5.0
    assert not list(pricing.guardrails_path.parent.glob(".*partial"))


def test_a_broken_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "guardrails.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"guardrails\.json: cannot read"):
        read_guardrails(path)
    save_guardrails(path, GuardrailConfig(), "ops-desk")
    record = json.loads(path.read_text())
    record["guardrails"]["min_margin_pct"] = -3
    path.write_text(json.dumps(record))
    with pytest.raises(ConfigError, match=r"guardrails\.json: .*min_margin_pct"):
        read_guardrails(path)


def test_a_directory_at_the_path_is_an_error_naming_it(tmp_path: Path) -> None:
    pricing = PricingConfig().resolved(tmp_path)
    pricing.guardrails_path.mkdir(parents=True)  # e.g. a volume mounted at the file's path
    with pytest.raises(ConfigError) as caught:
        pricing.with_saved_guardrails()
    message = str(caught.value)
    assert str(pricing.guardrails_path) in message and "found a directory" in message
    assert "\n" not in message


def test_quotes_use_the_newest_trained_policy_by_default(tmp_path: Path) -> None:
    from pricegraph.pricing.config import DEFAULT_POLICY_DIR
    from pricegraph.pricing.policies.training import point_latest

    out = tmp_path / DEFAULT_POLICY_DIR
    assert PricingConfig().resolved(tmp_path).policy_folder() is None  # nothing trained: list price
    for version in ("pricing-a", "pricing-b"):
        (out / version).mkdir(parents=True)
        (out / version / "manifest.json").write_text("{}")
        point_latest(out, version)
        path = PricingConfig().resolved(tmp_path).policy_folder()
        assert path is not None and path.resolve() == (out / version).resolve()
    explicit = PricingConfig(policy_path=Path("models/pricing/pricing-a")).resolved(tmp_path)
    assert explicit.policy_path == explicit.policy_folder() == out / "pricing-a"


def test_the_table_keeps_every_change_and_the_newest_is_in_force(
    records_target: str | Path,
) -> None:
    table = GuardrailTable(records_target)
    try:
        assert table.read() is None and table.version() is None
        first = GuardrailConfig().updated(min_margin_pct=15.0)
        table.save(first, "ops-desk")
        version = table.version()
        guardrails, record = table.read()  # type: ignore[misc]
        assert guardrails == first and record["changed_by"] == "ops-desk"
        second = first.updated(max_personal_deviation_pct=5.0)
        table.save(second, "risk-desk")
        assert table.version() != version
        assert table.read()[0] == second  # type: ignore[index]
        history = table.database.fetch("SELECT changed_by FROM guardrail_changes ORDER BY seq")
        assert [row[0] for row in history] == ["ops-desk", "risk-desk"]
        newest_first = table.history(10)
        assert [record["changed_by"] for _, record in newest_first] == ["risk-desk", "ops-desk"]
        assert [config for config, _ in newest_first] == [second, first]
        assert len(table.history(1)) == 1 and table.history(0) == []
        for statement in (
            "UPDATE guardrail_changes SET changed_by = 'x'",
            "DELETE FROM guardrail_changes",
        ):
            with pytest.raises(table.database.errors, match="append-only"):
                table.database.execute(statement)
        table.database.execute(
            "INSERT INTO guardrail_changes (changed_at, changed_by, format_version, guardrails) "
            "VALUES ('now', 'script', 1, ?)",
            ('{"min_margin_pct": -3}',),
        )
        with pytest.raises(ConfigError, match=r"guardrail_changes\), change 3: .*min_margin_pct"):
            table.read()
    finally:
        table.close()


def test_with_a_database_url_the_saved_guardrails_come_from_the_table(
    tmp_path: Path, postgres_url: str
) -> None:
    pricing = PricingConfig(database_url=postgres_url).resolved(tmp_path)
    assert pricing.records_target() == postgres_url
    store = pricing.guardrail_store()
    try:
        assert isinstance(store, GuardrailTable) and "password" not in store.where
        store.save(GuardrailConfig().updated(min_margin_pct=19.0), "ops-desk")
    finally:
        store.close()
    assert pricing.with_saved_guardrails().guardrails.min_margin_pct == 19.0
    assert not pricing.guardrails_path.exists()  # nothing written beside the data


def test_the_file_version_changes_with_every_save(tmp_path: Path) -> None:
    store = GuardrailFile(tmp_path / "guardrails.json")
    assert store.version() is None and store.read() is None
    versions = set()
    for margin in (11.0, 12.0, 12.0):
        store.save(GuardrailConfig().updated(min_margin_pct=margin), "ops-desk")
        versions.add(store.version())
    assert len(versions) == 3 and store.read()[0].min_margin_pct == 12.0  # type: ignore[index]
    (last,) = store.history(20)  # the file keeps the last change only
    assert last == store.read() and store.history(0) == []


def test_a_database_url_must_name_a_server() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        PricingConfig(database_url="sqlite:///tmp/x.db")
    assert PricingConfig().records_target() == Path("audit/quotes.sqlite")
