"""Smoke test: ``bench/bench_api.py`` runs end to end on a tiny world: reads, writes,
mixed load and the load scenario (half a second per phase).

It checks that the script works and prints its figures, and that the figures are
numbers of the right kind (positive latencies and ratios, the writes it was asked
for), not what they are (timings belong to the benchmark, never to tests).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--customers", "40", "--products", "40", "--days", "10"]
RATIO = re.compile(r"^p50 ratio (.+) / small-write path: (\S+)x$", re.MULTILINE)
READ = re.compile(r"^(\w+)\s+graphql .* \| ratio (\S+)$", re.MULTILINE)
MIXED = re.compile(r"^read p99 ratio with writer / alone: (\S+)x$", re.MULTILINE)
LOAD = re.compile(
    r"^load (\w+(?: \w+)?)\s+graphql .* \| ratio rps (\S+) p50 (\S+) p99 (\S+)$", re.MULTILINE
)
RSS = re.compile(r"^server RSS (\d+) -> (\d+) MiB", re.MULTILINE)


def test_bench_api_tiny(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    args = ["--requests", "40", "--concurrency", "4", "--writes", "6", "--copy-writes", "2"]
    args += ["--seconds", "0.5"]
    result = subprocess.run(
        [sys.executable, "bench/bench_api.py", *TINY, *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ratios = RATIO.findall(result.stdout)
    assert [name for name, _ in ratios] == ["COPY writes", "pandas validation", "COPY writes"]
    assert all(float(value) > 0 for _, value in ratios)
    reads = dict(READ.findall(result.stdout))
    assert set(reads) == {"personalized_price", "product_with_similar"}
    assert all(float(value) > 0 for value in reads.values())
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["catalog"]["customers"] == 40
    writes = figures["api_writes"]
    assert set(writes) == {"small", "pandas", "copy"}
    assert [writes[path]["writes"] for path in ("small", "pandas", "copy")] == [6, 6, 2]
    for path, row in [*writes.items(), *figures["store_writes"].items()]:
        assert 0 < row["p50_ms"] <= row["p99_ms"], path
    mixed = MIXED.findall(result.stdout)
    assert len(mixed) == 1 and float(mixed[0]) > 0
    assert figures["mixed"]["writes"] > 0
    assert abs(float(mixed[0]) - figures["mixed"]["read_p99_ratio"]) <= 0.006
    printed = float(ratios[1][1])  # pandas validation / as deployed, through GraphQL
    expected = writes["pandas"]["p50_ms"] / writes["small"]["p50_ms"]
    assert abs(printed - expected) <= 0.006  # the printed ratio is the figures' own
    loads = {name: ratios for name, *ratios in LOAD.findall(result.stdout)}
    assert set(loads) == {
        "personalized_price",
        "product_with_similar",
        "nested_list",
        "mixed",
        "mixed reads",
        "mixed writes",
    }
    assert all(float(value) > 0 for ratios in loads.values() for value in ratios)
    load = figures["load"]
    assert load["concurrency"] == 4 and load["read_threads"] >= 1
    assert load["mixed"]["graphql"]["write"]["requests"] >= 1
    rss = RSS.findall(result.stdout)
    assert len(rss) == 1 and all(float(v) > 0 for v in rss[0])
    assert load["memory"]["after"]["rss_mib"] > 0
    ratio = load["nested_list"]["ratio"]["requests_per_s"]
    assert abs(float(loads["nested_list"][0]) - ratio) <= 0.006
