"""Smoke tests: every benchmark script runs end to end on a tiny input.

They check that the scripts work and print their figures, not the figures
themselves (timings belong to the benchmarks, never to tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY_RETAIL = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17851,United Kingdom\n"
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-01 09:41:00,2.55,17850,United Kingdom\n"
)


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_bench_load(tmp_path: Path) -> None:
    data = tmp_path / "retail.csv"
    data.write_text(TINY_RETAIL, encoding="utf-8")
    out = _run(
        "bench/bench_load.py", "--file", str(data), "--lookups", "5", "--out", str(tmp_path / "out")
    )
    assert "load_to_pandas_ratio" in out and "get_node_p50_ms" in out
    figures = json.loads((tmp_path / "out" / "bench_load.json").read_text(encoding="utf-8"))
    assert (figures["file"], figures["rows"]) == ("retail.csv", 4)  # the plot's label


def test_bench_embed(tmp_path: Path) -> None:
    data = tmp_path / "retail.csv"
    data.write_text(TINY_RETAIL, encoding="utf-8")
    out = _run("bench/bench_embed.py", "--file", str(data), "--repeat", "1")
    assert "pipeline_to_bare_ratio" in out and "rerun_encoded           0" in out


def test_bench_vectors(tmp_path: Path) -> None:
    out = _run(
        "bench/bench_vectors.py",
        "--edge-sizes",
        "500",
        "--local-sizes",
        "500",
        "--queries",
        "10",
        "--out",
        str(tmp_path),
    )
    assert "recall" in out
    assert "not run" not in out  # local mode ran at every size: nothing said unmeasured


def test_bench_recs(tmp_path: Path) -> None:
    lines = [TINY_RETAIL.splitlines()[0]]
    for customer in range(30):  # 120 days of purchases: history, validation and test
        for step, day in enumerate(range(0, 120, 8)):
            product = 10000 + (customer + step) % 12
            lines.append(
                f"{600000 + customer * 100 + step},{product},ITEM {product},1,"
                f"2011-{1 + day // 30:02d}-{1 + day % 28:02d} 10:00:00,2.50,{12000 + customer},"
                "United Kingdom"
            )
    data = tmp_path / "retail.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _run(
        "bench/bench_recs.py", "--file", str(data), "--max-epochs", "1", "--origins", "1",
        "--worlds", "1", "--world-customers", "80", "--world-products", "30",
        "--world-days", "90", "--out", str(tmp_path),
    )  # fmt: skip
    results = json.loads((tmp_path / "recs.json").read_text(encoding="utf-8"))
    assert set(results) == {"online-retail", "world-1"}
    table = {row["method"]: row for row in results["online-retail"]["origins"][0]["table"]}
    assert {"ease", "als", "recent_neighbors", "lightgcn", "encoder", "encoder+ease"} <= set(table)
    for row in table.values():
        assert 0.0 <= row["recall@20_low"] <= row["recall@20"] <= row["recall@20_high"] <= 1.0
        assert 0.0 <= row["ndcg@20"] <= 1.0 and row["fit_s"] >= 0
    summary = results["online-retail"]["summary"]
    best = summary["best_baseline"]
    assert f"encoder vs best baseline {best}: recall@20" in out
    ratio = summary["methods"]["encoder"][f"recall_vs_{best}"]["ratio"]
    assert f"recall@20 {ratio:.3f}x" in out  # the printed ratio is the stored one
    assert "windows: test 28 days, validation 28 days" in out
    assert "encoder+rerank vs rerank (what the encoder adds): recall@20" in out
    for name in ("online-retail", "world-1"):  # one bar plot per data set
        assert (tmp_path / f"{name}-recs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # LightGCN in a process of its own, merged back into its origin's table.
    split_out = tmp_path / "split"
    common = ("--file", str(data), "--max-epochs", "1", "--origins", "1", "--data",
              "online-retail", "--out", str(split_out))  # fmt: skip
    quick = _run("bench/bench_recs.py", *common, "--no-lightgcn")
    assert "LightGCN left out of this run" in quick
    _run("bench/bench_recs.py", *common, "--lightgcn-only")
    merged = json.loads((split_out / "recs.json").read_text(encoding="utf-8"))["online-retail"]
    methods = [row["method"] for row in merged["origins"][0]["table"]]
    assert methods.index("lightgcn") == methods.index("encoder") - 1
    assert merged["summary"]["methods"]["lightgcn"]["recall"]["mean"] >= 0
