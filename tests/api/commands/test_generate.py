"""The nasty catalogue through the commands: generate --nasty, load, stats, segments,
embed, similar, fit-demand, train-gnn, recommend, train-pricing --from-graph, quote,
query and audit."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
from support.cli import run_cli as _run
from support.cli import runner

import pricegraph.api.commands.segments  # noqa: F401  (registers the command)
from pricegraph.api.cli import app
from pricegraph.synthetic import WorldConfig, generate_world, nasty_world, write_world
from pricegraph.synthetic.nasty import UNICODE_BRAND_NAME, UNICODE_CUSTOMER_ID, UNICODE_PRODUCT_NAME

CONFIG = WorldConfig(seed=1, n_brands=4, n_products=30, n_customers=60, n_days=40)


def test_the_nasty_catalogue_runs_through_the_commands(env: Path) -> None:
    mapping = write_world(nasty_world(generate_world(CONFIG)), env / "var" / "world")
    loaded = _run("load", str(mapping))
    assert "2 purchase lines have quantities above 20" in " ".join(loaded.split())
    assert "reasons in" not in loaded  # no file has rejected rows
    assert "Customer" in _run("stats")
    out = _run("segments", "--k-max", "4", "--vector-weight", "0", "--seed", "1")
    assert "IN_SEGMENT edges (v1): 63 created" in out  # idle customers segmented too
    unpriced = runner.invoke(app, ["quote", "C00001", "P00002"])  # no list price
    assert unpriced.exit_code == 2 and "Traceback" not in unpriced.output
    assert "product 'P00002' has no list price" in unpriced.output


def test_the_nasty_world_runs_through_every_command(env: Path) -> None:
    """Every stage on a small nasty world (200 customers, 60 products): each exits 0 and
    copes with the quirks, and train-pricing and quote keep one list-price contract."""
    sizes = ["--customers", "200", "--products", "60", "--brands", "4", "--days", "120"]
    _run("generate", "--nasty", *sizes, "--seed", "1")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    unpriced_query = "MATCH (p:Product) WHERE p.list_price IS NULL RETURN p.id AS id ORDER BY id"
    unpriced = pd.read_csv(io.StringIO(_run("query", unpriced_query, "--format", "csv")))["id"]
    assert len(unpriced) == 15 and unpriced.iloc[0] == "P00002"  # every 4th from the 2nd
    assert "IN_SEGMENT edges (v1)" in _run("segments", "--k-max", "3", "--vector-weight", "0")

    assert "Embedding report" in _run("embed")
    result = runner.invoke(
        app, ["similar", "--text", "leather bag", "--limit", "3", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)  # unpriced and unicode products among them or not
    assert len(hits) == 3 and all(hit["key"].startswith("P000") for hit in hits)

    fitted = _run("fit-demand")
    free = next(x for x in fitted.splitlines() if "free lines (price 0) left out" in x)
    assert " 2 " in free and "demand model:" in fitted

    trained = _run("train-gnn", "--max-epochs", "1", "--lightgcn-epochs", "1", "--seed", "1")
    assert "validation winner:" in trained
    idle = _run("recommend", "--customer", UNICODE_CUSTOMER_ID, "--limit", "3", "--format", "csv")
    picks = pd.read_csv(io.StringIO(idle))  # a customer without purchases, with a unicode id
    assert len(picks) == 3 and picks["product_id"].str.startswith("P000").all()

    args = ["--from-graph", "--products", "60", "--macro-steps", "96", "--micro-steps", "100"]
    out = " ".join(
        _run("train-pricing", *args, "--explore-episodes", "4", "--eval-episodes", "2").split()
    )
    left_out = re.search(
        r"(\d+) products without a list price left out of the market \(quotes refuse them too\)",
        out,
    )
    assert left_out is not None and 0 < int(left_out[1]) <= len(unpriced)
    manifest = json.loads((env / "var/models/pricing/latest/manifest.json").read_text())
    assert not set(manifest["product_ids"]) & set(unpriced)  # nothing quotes would refuse
    assert f"market: {len(manifest['product_ids'])} products" in out

    priced = manifest["product_ids"][0]
    quoted = runner.invoke(app, ["quote", "C00001", priced, "--json"])
    assert quoted.exit_code == 0, quoted.output
    quote = json.loads(quoted.stdout)
    assert quote["product_id"] == priced and quote["price"] > 0
    assert quote["model_versions"]["policy"] == manifest["version"]  # the trained plan
    refused = runner.invoke(app, ["quote", "C00001", "P00002"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert refused.output.startswith("error: ") and refused.output.count("\n") == 1
    assert "product 'P00002' has no list price" in refused.output

    listed = _run("audit", "--customer", "C00001")
    assert priced in listed and "of 1" in listed  # the refused quote is not recorded
    assert "no quotes match" in _run("audit", "--product", "P00002")


def test_generate_nasty_writes_the_quirks_and_load_keeps_every_row(env: Path) -> None:
    out = env / "nasty"
    sizes = ["--customers", "60", "--products", "30", "--brands", "4", "--days", "40"]
    generated = " ".join(
        _run("generate", "--nasty", *sizes, "--seed", "1", "--out", str(out)).split()
    )
    for name in ("brands.csv", "products.csv", "customers.csv", "events.csv.gz", "mapping.toml"):
        assert (out / name).is_file() and name in generated
    assert (out / "ground_truth" / "model.json").is_file()
    products, customers = (out / "products.csv").read_text(), (out / "customers.csv").read_text()
    assert UNICODE_PRODUCT_NAME in products and UNICODE_CUSTOMER_ID in customers
    assert UNICODE_BRAND_NAME in (out / "brands.csv").read_text()
    for quirk in (
        "duplicated names: 6 products share 1 name(s)",
        "missing list prices: 8 products have no list price, maximum price or cost",
        "products without text: 1 without a description",
        "huge quantities: 2 purchase lines above 20 units",
        "free items: 2 purchase lines with a unit price of 0",
        "customers without purchases: 8 without any event",  # 3 added, 5 idle already
    ):
        assert quirk in generated
    # the same world as nasty_world gives: the same files, byte for byte
    written = write_world(nasty_world(generate_world(CONFIG)), env / "direct")
    assert (written.parent / "products.csv").read_bytes() == (out / "products.csv").read_bytes()

    loaded = " ".join(_run("load", str(out / "mapping.toml")).split())
    assert "2 purchase lines have quantities above 20" in loaded and "qty 5,000" in loaded
    assert "reasons in" not in loaded  # the quirks are valid data: no file has rejected rows
    assert not list((env / "var" / "rejects").glob("*"))
    assert "Customer" in _run("stats")


def test_generate_nasty_refuses_a_world_too_small_for_its_quirks(env: Path) -> None:
    result = runner.invoke(app, ["generate", "--nasty", "--customers", "1", "--days", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = " ".join(result.output.replace("│", " ").split())  # unwrap the error box
    assert "Invalid value for --nasty" in message and "huge_lines + free_lines" in message
