"""Benchmark: derived columns of a load mapping, polars (what the loader runs) vs DuckDB.

The mapping's ``[files.derive]`` expressions are SQL; the loader evaluates them with
polars (:mod:`pricegraph.loaders.derive`). This bench measured the choice: the same
three expressions of a grocery retailer's transactions file, on ``--rows`` rows of
text as a CSV read gives them (a few values not numbers, some quantities zero, some
sizes empty), computed

* by :func:`~pricegraph.loaders.derive.evaluate`: values, and per row what is bad
  (not a number, division by zero);
* by DuckDB (a dev dependency; skipped when not installed): one ``SELECT`` over the same
  frame giving the same values and the same per-row flags;
* by pandas, as a preparation step written by hand would (``pd.to_numeric``, string
  concatenation): the baseline, values only.

Each is the median of ``--repeat`` runs; the printout gives seconds, rows/s, the
ratio to the pandas baseline and whether the values agree with the loader's.

Usage: ``python bench/bench_derive.py [--rows 1500000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from pricegraph.loaders.derive import as_polars, evaluate, parse_expression

EXPRESSIONS = {
    "unit_price": ("(SALES_VALUE + COUPON_DISC) / QUANTITY", True),
    "category_id": ("DEPARTMENT || '/' || COMMODITY_DESC", False),
    "name": ("COMMODITY_DESC || COALESCE(' ' || CURR_SIZE, '')", False),
}
NUMBER_COLUMNS = ("SALES_VALUE", "COUPON_DISC", "QUANTITY")


def transactions(rows: int, seed: int = 0) -> pd.DataFrame:
    """Text columns as a CSV read gives them: 0.1 % of sales not numbers, 2 % zero
    quantities, 30 % of sizes empty."""
    rng = np.random.default_rng(seed)
    sales = (rng.random(rows) * 20).round(2).astype(str).astype(object)
    sales[rng.random(rows) < 0.001] = "n/a"
    coupon = np.where(rng.random(rows) < 0.1, -(rng.random(rows) * 2).round(2), 0.0)
    size = rng.choice(["10 OZ", "12 OZ", "1 LB", "2 LTR"], rows).astype(object)
    size[rng.random(rows) < 0.3] = ""
    return pd.DataFrame(
        {
            "SALES_VALUE": sales,
            "COUPON_DISC": coupon.astype(str).astype(object),
            "QUANTITY": np.where(rng.random(rows) < 0.02, 0, rng.integers(1, 5, rows))
            .astype(str)
            .astype(object),
            "DEPARTMENT": rng.choice(["GROCERY", "DRUG GM", "PRODUCE", "MEAT"], rows).astype(
                object
            ),
            "COMMODITY_DESC": rng.choice([f"COMMODITY {i}" for i in range(300)], rows).astype(
                object
            ),
            "CURR_SIZE": size,
        }
    )


def run_loader(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """What the loader computes: values and the bad-row mask per field."""
    out: dict[str, pd.Series] = {}
    parsed = {name: parse_expression(text) for name, (text, _) in EXPRESSIONS.items()}
    columns = as_polars(frame, parsed.values())  # once per file, as the loader does
    for name, (_, numeric) in EXPRESSIONS.items():
        derived = evaluate(parsed[name], frame, numeric, columns=columns)
        out[name], out[f"{name}_bad"] = derived.values, pd.Series(derived.bad)
    return out


def duckdb_sql() -> str:
    """The same work as one DuckDB query: trimmed text, numbers by TRY_CAST, flags."""
    text = {c: f"NULLIF(TRIM({c}), '')" for c in (*NUMBER_COLUMNS, "DEPARTMENT")}
    text |= {c: f"NULLIF(TRIM({c}), '')" for c in ("COMMODITY_DESC", "CURR_SIZE")}
    number = {c: f"TRY_CAST({text[c]} AS DOUBLE)" for c in NUMBER_COLUMNS}
    not_number = " OR ".join(
        f"({text[c]} IS NOT NULL AND {number[c]} IS NULL)" for c in NUMBER_COLUMNS
    )
    price = f"({number['SALES_VALUE']} + {number['COUPON_DISC']}) / {number['QUANTITY']}"
    return (
        f"SELECT CASE WHEN isfinite({price}) THEN {price} END AS unit_price, "
        f"({not_number}) OR NOT isfinite({price}) AS unit_price_bad, "
        f"{text['DEPARTMENT']} || '/' || {text['COMMODITY_DESC']} AS category_id, "
        f"{text['COMMODITY_DESC']} || COALESCE(' ' || {text['CURR_SIZE']}, '') AS name "
        "FROM frame"
    )


def run_pandas(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The hand-written preparation step: values only, no reasons."""
    number = {c: pd.to_numeric(frame[c].str.strip(), errors="coerce") for c in NUMBER_COLUMNS}
    price = (number["SALES_VALUE"] + number["COUPON_DISC"]) / number["QUANTITY"]
    size = frame["CURR_SIZE"].str.strip().replace("", None)
    return {
        "unit_price": price.where(np.isfinite(price)),
        "category_id": frame["DEPARTMENT"].str.strip() + "/" + frame["COMMODITY_DESC"].str.strip(),
        "name": frame["COMMODITY_DESC"].str.strip() + (" " + size).fillna(""),
    }


def _median_seconds(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _same(a: pd.Series, b: pd.Series) -> bool:
    a, b = pd.Series(a).reset_index(drop=True), pd.Series(b).reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        return bool(np.allclose(a.to_numpy(float), b.to_numpy(float), equal_nan=True))
    return bool((a.fillna("<na>").astype(str) == b.fillna("<na>").astype(str)).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = transactions(args.rows)
    print(f"{args.rows:,} rows, {len(EXPRESSIONS)} derived fields: " + ", ".join(EXPRESSIONS))
    results: list[tuple[str, float | None, str]] = []
    base_s, base = _median_seconds(lambda: run_pandas(frame), args.repeat)
    loader_s, loader = _median_seconds(lambda: run_loader(frame), args.repeat)
    agree = all(_same(loader[name], base[name]) for name in EXPRESSIONS)  # type: ignore[index]
    bad = int(loader["unit_price_bad"].sum())  # type: ignore[index]
    results.append(("pandas by hand (baseline; values only)", base_s, ""))
    results.append(
        ("polars: loaders.derive.evaluate (values + rejects)", loader_s,
         f"values agree with the baseline: {'yes' if agree else 'NO'}; {bad:,} bad unit prices")
    )  # fmt: skip
    try:
        import duckdb
    except ImportError:
        results.append(("DuckDB (values + flags)", None, "n/a: pip install duckdb"))
    else:
        con = duckdb.connect()
        con.execute("SET enable_external_access = false")
        con.register("frame", frame)
        sql = duckdb_sql()
        duck_s, duck = _median_seconds(lambda: con.execute(sql).df(), args.repeat)
        same = all(_same(loader[name], duck[name]) for name in EXPRESSIONS)  # type: ignore[index]
        same &= _same(loader["unit_price_bad"], duck["unit_price_bad"].fillna(True))  # type: ignore[index]
        results.append(
            (f"DuckDB {duckdb.__version__} (values + flags)", duck_s,
             f"values and flags agree with polars: {'yes' if same else 'NO'}")
        )  # fmt: skip
    width = max(len(r[0]) for r in results)
    print(f"{'engine':<{width}}  {'seconds':>8}  {'rows/s':>12}  {'vs baseline':>11}")
    for label, seconds, note in results:
        if seconds is None:
            print(f"{label:<{width}}  {'n/a':>8}  {'n/a':>12}  {'n/a':>11}  {note}")
            continue
        print(
            f"{label:<{width}}  {seconds:>8.2f}  {args.rows / seconds:>12,.0f}  "
            f"{seconds / base_s:>10.2f}x  {note}"
        )


if __name__ == "__main__":
    main()
