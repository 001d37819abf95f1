"""Smoke test: ``bench/bench_quote.py`` runs end to end on a tiny world.

It checks that the script works and writes its figures, not the figures themselves
(timings belong to the benchmark, never to tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--customers", "100", "--products", "30", "--days", "120"]


@pytest.mark.parametrize("policy", ["segment", "trained"])
def test_bench_quote_tiny(tmp_path: Path, policy: str) -> None:
    args = [
        *TINY,
        "--policy",
        policy,
        "--single",
        "20",
        "--batch",
        "50",
        "--repeats",
        "2",
        "--out",
        str(tmp_path),
    ]
    result = subprocess.run(
        [sys.executable, "bench/bench_quote.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "batch_to_bare_guardrails_ratio" in result.stdout
    figures = json.loads((tmp_path / f"quote_{policy}.json").read_text(encoding="utf-8"))
    assert figures["world"] == {"customers": 100, "products": 30, "days": 120}
    assert figures["single_quotes"] == 20 and figures["batch_size"] == 50
    replans = 2 if policy == "trained" else 0  # one quote per repeat re-plans the season
    # after the TTL: two services' warm-ups, then per repeat the request path's first
    # quote and refresh ahead's first and next
    expiry = 2 * 10 + 2 * 3
    # after an event: two services' warm-ups, then per repeat one first quote of each
    events = 2 * 10 + 2 * 2
    # warm-up, singles, batches, quotes that re-plan, quotes after the TTL, after events
    assert figures["audit_records"] == 10 + 20 + 2 * 50 + replans + expiry + events
    replan = figures["quote_with_replan_median_ms"]
    assert replan > 0 if policy == "trained" else replan == "n/a (no meso level)"
    for key in (
        "single_quote_p50_ms",
        "single_quote_p99_ms",
        "batch_quote_median_ms",
        "batch_state_build_median_ms",
        "snapshot_load_ms",
        "bare_guardrail_batch_median_ms",
        "batch_to_bare_guardrails_ratio",
        "first_quote_after_ttl_request_path_median_ms",
        "first_quote_after_ttl_refresh_ahead_median_ms",
        "first_quote_after_ttl_request_path_to_ahead_ratio",
        "next_quote_after_refresh_ahead_swap_median_ms",
        "first_quote_after_an_event_invalidated_median_ms",
        "first_quote_after_an_event_marked_stale_median_ms",
        "first_quote_after_an_event_invalidated_to_marked_ratio",
    ):
        assert figures[key] > 0, key
