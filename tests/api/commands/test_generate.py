"""The nasty catalogue through the commands: generate --nasty, load, stats, segments, quote."""

from __future__ import annotations

from pathlib import Path

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
    assert unpriced.exit_code in (0, 2) and "Traceback" not in unpriced.output
    assert "P00002" in unpriced.output


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
