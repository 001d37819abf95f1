"""``pricegraph load --derive / --attribute``: computed columns from the command line,
and a bad expression as a one-line error with exit code 2."""

from __future__ import annotations

from pathlib import Path

from support.cli import run_cli as _run
from support.cli import runner

from pricegraph.api.cli import app


def test_derived_columns_and_attributes_from_the_command_line(env: Path) -> None:
    (env / "p.csv").write_text("sku,type,size\nA,Milk,1 L\nB,Eggs,\n", encoding="utf-8")
    out = _run(
        "load", str(env / "p.csv"), "--kind", "products", "--map", "product_id=sku",
        "--derive", "name=type || COALESCE(' ' || size, '')",
        "--attribute", "size=size",
    )  # fmt: skip
    assert "Load report" in out
    rows = _run("query", "MATCH (p:Product) RETURN p.id AS id, p.name AS name, "
                "p.attributes AS attributes ORDER BY id")  # fmt: skip
    assert "Milk 1 L" in rows and "size=1 L" in rows and "Eggs" in rows

    (env / "h.csv").write_text("hh,AGE_DESC\n7,45-54\n", encoding="utf-8")
    out = _run(
        "load", str(env / "h.csv"), "--kind", "customers", "--map", "customer_id=hh",
        "--attribute", "age_band=AGE_DESC",
    )  # fmt: skip
    assert "age_band (age, protected)" in out


def test_a_bad_expression_is_one_line_with_exit_code_2(env: Path) -> None:
    (env / "p.csv").write_text("sku,type\nA,Milk\n", encoding="utf-8")
    args = ["load", str(env / "p.csv"), "--kind", "products", "--map", "product_id=sku"]
    result = runner.invoke(app, [*args, "--derive", "name=concat(type"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "[files.derive] name = 'concat(type': unable to parse" in result.output
    result = runner.invoke(app, [*args, "--derive", "list_price=type * 2"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "list_price = 'type * 2' cannot be computed on this file" in result.output
    result = runner.invoke(app, [*args, "--derive", "name=upper(typ)"])
    assert result.exit_code == 2
    assert "mapping key 'derive.name' names column 'typ'" in result.output
    assert "did you mean 'type'" in result.output
