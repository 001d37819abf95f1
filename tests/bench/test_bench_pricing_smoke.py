"""Smoke test: the pricing benchmark runs end to end on a tiny world (figures not checked,
references and CIs labelled)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = {
    "oracle", "hierarchical (full)", "full, micro ungated",
    "macro + meso", "macro only",
    "static list", "cost plus 100%", "competitor match", "myopic (estimated)",
    "myopic (true model)",
}  # fmt: skip


def test_bench_pricing_tiny(tmp_path: Path) -> None:
    args = ["--tiny", "--retail-file", str(tmp_path / "absent.csv.gz"), "--out", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "bench/bench_pricing.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Online Retail skipped" in result.stdout
    report = json.loads((tmp_path / "pricing.json").read_text())
    assert "not found" in report["online_retail"]["skipped"]
    synthetic = report["synthetic"]
    assert abs(synthetic["myopic_check"]["unlimited_stock_myopic_pct_oracle"] - 100) < 0.5
    for env in ("expected", "stochastic"):
        table = synthetic["tables"][env]
        assert {row["policy"] for row in table} == ROWS
        for row in table:
            for key in ("profit_pct", "revenue_pct", "units_pct", "leftover_pct_stock"):
                assert math.isfinite(row[key]), (env, row["policy"], key)
        assert (tmp_path / f"pricing_synthetic_{env}.png").is_file()
    oracle = next(r for r in synthetic["tables"]["expected"] if r["policy"] == "oracle")
    assert abs(oracle["profit_pct"] - 100.0) < 1e-9
    bound = synthetic["oracle"]["profit_bound"]
    expected_pct = 100 * synthetic["oracle"]["oracle_profit"] / bound
    assert abs(oracle["profit_pct_bound"] - expected_pct) < 1e-9
    assert math.isnan(oracle["profit_pct_bound_ci95"])  # one training seed: no CI
    expected_out, stochastic_out = result.stdout.split("synthetic, stochastic demand")
    oracle_line = next(line for line in expected_out.splitlines() if line.startswith("oracle "))
    assert oracle_line.count("n/a") == 6  # every CI of one training seed
    assert "95 % CI over 1 run (n/a: fewer than 2)" in expected_out
    assert "% of open-loop oracle (paired)" in stochastic_out.splitlines()[0]
    beats_oracle = [
        r["policy"] for r in synthetic["tables"]["stochastic"] if r["profit_pct"] > 100 + 1e-9
    ]
    if beats_oracle:  # a figure above 100 % of the oracle comes with the reason
        assert f"Profit above 100 % of the open-loop oracle ({', '.join(beats_oracle)})" in (
            stochastic_out
        )
    assert synthetic["oracle"]["oracle_profit"] <= synthetic["oracle"]["dual_bound"] * (1 + 1e-9)
    deployed = synthetic["tables"]["expected, as deployed"]
    assert {row["policy"] for row in deployed} == ROWS | {"oracle plan, as deployed"}
    assert (tmp_path / "pricing_synthetic_expected_as_deployed.png").is_file()
    as_deployed = synthetic["oracle"]["as_deployed"]
    assert as_deployed["oracle_profit"] <= synthetic["oracle"]["dual_bound"] * (1 + 1e-9)
    assert as_deployed["guardrails"]["max_markup_over_list_pct"] == 30.0
    shares = synthetic["approval_requests_pct"]
    assert set(shares) == {row["policy"] for row in deployed} - {"oracle"}
    for share in shares.values():
        assert 0 <= share["opening_period"] <= 100 and 0 <= share["later_periods"] <= 100
    assert shares["static list"] == {"opening_period": 0.0, "later_periods": 0.0}
    assert "as deployed: prices sent for approval" in result.stdout
