"""``pricegraph quote`` on a tiny world: the table, ``--json``, the same quote as the API,
and one-line errors for configured files that are not there."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

import pytest
from support.cli import run_cli as _run
from support.cli import runner

import pricegraph.api.commands.quote  # noqa: F401  (registers the commands)
from pricegraph.api.cli import app
from pricegraph.api.services import open_services
from pricegraph.api.settings import Settings
from pricegraph.pricing.quotes.audit import AuditLog
from pricegraph.pricing.snapshot import customer_segments


def test_quote_and_audit_commands(env: Path, caplog: pytest.LogCaptureFixture) -> None:
    _run("generate", "--customers", "40", "--products", "30", "--days", "30", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    with caplog.at_level(logging.WARNING, logger="pricegraph.pricing"):
        out = _run("quote", "C00001", "P00001", "--requested-by", "key-7")
    assert "Quote" in out and "Zone 'list'" in out and "Not personalised." in out
    assert re.search(r"currency\s*│\s*EUR", out) and re.search(r"cost\s*│\s*stored", out)
    latest = env / "var" / "models" / "pricing" / "latest"
    assert [r.getMessage() for r in caplog.records if r.name == "pricegraph.pricing"] == [
        f"no trained pricing policy at {latest}: quotes use list prices; "
        "run `pricegraph train-pricing`"
    ]
    assert (env / "var" / "audit" / "quotes.sqlite").exists()
    listed = _run("audit", "--customer", "C00001")
    assert "C00001" in listed and "P00001" in listed and "key-7" in listed and "of 1" in listed
    assert "no quotes match" in _run("audit", "--product", "P00002")


def test_with_a_records_server_quotes_are_audited_there(
    env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICEGRAPH_PRICING__DATABASE_URL", postgres_url)
    _run("generate", "--customers", "20", "--products", "30", "--days", "10", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    _run("quote", "C00002", "P00003", "--requested-by", "key-9")
    assert not (env / "var" / "audit").exists()  # nothing written beside the data
    with AuditLog(postgres_url) as log:
        (record,) = log.query()
        assert (record.customer_id, record.product_id, record.requested_by) == (
            "C00002",
            "P00003",
            "key-9",
        )
    listed = _run("audit", "--customer", "C00002")
    assert "P00003" in listed and "key-9" in listed and "of 1" in listed
    replayed = _run("audit", "--replay", record.quote_id)
    assert f"quote {record.quote_id} matches its record" in replayed


def test_copy_records_moves_a_hosts_quotes_to_the_records_server(
    env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run("generate", "--customers", "20", "--products", "30", "--days", "10", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    _run("quote", "C00004", "P00005", "--requested-by", "key-4")  # into var/audit/quotes.sqlite
    refused = runner.invoke(app, ["copy-records"])
    assert refused.exit_code == 2 and "PRICEGRAPH_PRICING__DATABASE_URL" in refused.output
    monkeypatch.setenv("PRICEGRAPH_PRICING__DATABASE_URL", postgres_url)
    out = _run("copy-records")
    assert "1 of 1 quotes copied" in out and "saved guardrails none saved" in out
    assert "postgresql://postgres@" in out
    assert "0 of 1 quotes copied" in _run("copy-records")  # again: nothing more
    listed = _run("audit", "--customer", "C00004")
    assert "P00005" in listed and "key-4" in listed and "of 1" in listed


def test_quote_unknown_customer_exits_with_its_name(env: Path) -> None:
    _run("generate", "--customers", "20", "--products", "30", "--days", "10", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    result = runner.invoke(app, ["quote", "NOPE", "P00001"])
    assert result.exit_code == 2 and "customer 'NOPE' not found" in result.output


def test_train_pricing_from_the_graph_then_quote_with_it(env: Path) -> None:
    _run("generate", "--customers", "120", "--products", "40", "--days", "120", "--seed", "4")
    (env / "var" / "world" / "ground_truth").rename(env / "gone")  # real data has none
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    refused = runner.invoke(app, ["train-pricing"])
    assert refused.exit_code == 2 and "--from-graph" in refused.output
    args = ["--from-graph", "--products", "10", "--macro-steps", "96", "--micro-steps", "100"]
    out = _run("train-pricing", *args, "--explore-episodes", "4", "--eval-episodes", "2")
    assert "market: 10 products" in out and "checkpoint hier-" in out
    # not a terminal: every stage says when it starts and ends
    for step in ("building the market from the graph's demand model", "macro: PPO", "evaluate"):
        assert f"{step}: started" in out and f"{step}: done in " in out
    latest = env / "var" / "models" / "pricing" / "latest"
    assert (latest / "manifest.json").is_file()
    manifest = json.loads((latest / "manifest.json").read_text())
    assert "segment multiplier" in _run("quote", "C00001", manifest["product_ids"][0])
    assert manifest["version"] in _run("audit", "--customer", "C00001")
    assert "segments none in the graph" in out and manifest["segment_names"] == ["all"]
    # with the graph's segments the market has one group per segment, and a segmented
    # customer's quote uses its own segment's plan
    _run("segments", "--k-min", "2", "--k-max", "2", "--vector-weight", "0")
    out = _run("train-pricing", *args, "--explore-episodes", "4", "--eval-episodes", "2")
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["segment_names"] == ["SEG-v1-1", "SEG-v1-2"]
    assert "segments SEG-v1-1, SEG-v1-2" in out
    quote = json.loads(_run("quote", "C00001", manifest["product_ids"][0], "--json"))
    assert len(quote["decision"]["priced_segments"]) == 1


def test_quote_json_is_the_whole_record_and_the_api_quotes_the_same(env: Path) -> None:
    _run("generate", "--customers", "60", "--products", "30", "--days", "60", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    _run("fit-demand")  # the API loads it for what-if; quotes must not differ for it
    result = runner.invoke(app, ["quote", "C00002", "P00003", "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    expected = {
        "quote_id", "ts", "customer_id", "product_id", "price", "list_price", "proposed_price",
        "decision", "bound_rules", "conflicts", "rationale", "is_personalized",
        "reference_price", "announced_discount_pct", "needs_approval", "is_approval_pending",
        "approval_id", "model_versions", "currency", "cost_estimated",
    }  # fmt: skip
    assert expected <= set(cli)  # every field of the API's PersonalizedPrice
    assert (cli["customer_id"], cli["product_id"]) == ("C00002", "P00003")
    assert cli["decision"]["zone"] == "list" and cli["is_personalized"] is False
    assert cli["price"] == pytest.approx(cli["list_price"]) and cli["rationale"]
    assert (cli["currency"], cli["cost_estimated"]) == ("EUR", False)  # the world's, stored
    assert "Cost: estimated" not in cli["rationale"]
    versions = cli["model_versions"]
    assert (versions["policy"], versions["encoder"]) == ("list-price", "none")
    assert versions.get("demand", "none") == "none"  # quotes do not use the demand model

    services = open_services(Settings())
    try:
        assert services.demand is not None  # the API has the demand model ...
        api = asyncio.run(
            services.run(services.quotes.quote, "C00002", "P00003", requested_by="api-desk")
        )
    finally:
        services.close()
    names = ("price", "proposed_price", "rationale", "is_personalized", "model_versions")
    for name in (*names, "currency", "cost_estimated"):
        assert getattr(api, name) == cli[name], name  # ... and quotes exactly as the CLI
    assert api.decision.zone == cli["decision"]["zone"]
    assert [b.name for b in api.bound_rules] == [b["name"] for b in cli["bound_rules"]]


@pytest.mark.parametrize("broken", ["policy_path", "guardrails_path"])
def test_a_configured_file_that_is_not_there_exits_2_naming_it(
    env: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    if broken == "policy_path":
        path = env / "var" / "models" / "pricing" / "gone"
        monkeypatch.setenv("PRICEGRAPH_PRICING__POLICY_PATH", "models/pricing/gone")
    else:
        path = env / "var" / "pricing" / "guardrails.json"
        path.mkdir(parents=True)  # a directory where the saved guardrails belong
    result = runner.invoke(app, ["quote", "C00001", "P00001"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert str(path) in result.output


def test_train_pricing_plans_per_graph_segment_and_quotes_use_the_customers(env: Path) -> None:
    _run("generate", "--customers", "120", "--products", "30", "--days", "120", "--seed", "4")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    _run("segments", "--k-max", "3", "--vector-weight", "0", "--seed", "1")
    args = ["--macro-steps", "96", "--micro-steps", "100", "--explore-episodes", "4"]
    out = _run("train-pricing", *args, "--eval-episodes", "2")
    assert "segments: the graph's SEG-v1-" in out and "as deployed" in out
    manifest = json.loads((env / "var/models/pricing/latest/manifest.json").read_text())
    assert all(name.startswith("SEG-v1-") for name in manifest["segment_names"][:2])
    services = open_services(Settings())
    try:
        segment_of = customer_segments(services.store)
    finally:
        services.close()
    customer = next(c for c, s in segment_of.items() if s in manifest["segment_names"])
    result = runner.invoke(app, ["quote", customer, manifest["product_ids"][0], "--json"])
    decision = json.loads(result.stdout)["decision"]
    assert decision["priced_segments"] == [segment_of[customer]]
    assert (
        f"from the plan of the customer's segment '{segment_of[customer]}'"
        in json.loads(result.stdout)["rationale"]
    )


def test_quote_of_a_product_without_a_list_price_is_a_one_line_error(env: Path) -> None:
    _run("generate", "--customers", "20", "--products", "30", "--days", "10", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    extra = env / "extra.csv"
    extra.write_text("product_id,name\nPX,Sample sachet\n", encoding="utf-8")
    _run("load", str(extra), "--kind", "products")  # list_price is optional in the catalog
    result = runner.invoke(app, ["quote", "C00001", "PX"])
    assert result.exit_code == 2 and result.exc_info[0] is SystemExit
    assert "product 'PX' has no list price" in result.output
    assert 'field "list_price"' in result.output and "Traceback" not in result.output
