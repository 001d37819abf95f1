"""End to end: ``pricegraph demo`` runs the whole chain and serves quotes of the trained policy.

The demo runs as a real subprocess on a small world (about a minute): generate,
load, embed, train-gnn, segments, fit-demand, train-pricing, then uvicorn. The test
reads the printed demo key and asks the server over HTTP.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from support.cli import runner

from pricegraph.api.cli import app
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.pricing.market.builders import GroundTruthMarketConfig


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_key(process: subprocess.Popen[str], url: str, lines: list[str]) -> str:
    """Read the demo's output until the server answers; return the printed pricing key."""
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    pattern = re.compile(r"^\s+pricing\s+(\S+)\s*$")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            reader.join(timeout=5)
            pytest.fail(f"demo exited {process.returncode}:\n" + "".join(lines)[-4000:])
        keys = [m.group(1) for m in map(pattern.match, list(lines)) if m]
        if keys:
            try:
                if httpx.get(url.replace("/graphql", "/healthz"), timeout=2).status_code == 200:
                    return keys[0]
            except httpx.TransportError:
                pass
        time.sleep(0.5)
    pytest.fail("demo did not start serving in 600 s:\n" + "".join(lines)[-4000:])


def test_demo_runs_the_chain_and_serves_trained_quotes(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PRICEGRAPH_DATA_DIR": str(tmp_path / "var"),
        "PRICEGRAPH_CONFIG": str(tmp_path / "absent.toml"),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "128",
        "PRICEGRAPH_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
        "COLUMNS": "200",
    }
    env.pop("PRICEGRAPH_API__KEYS", None)
    args = ["--customers", "200", "--products", "60", "--days", "120", "--gnn-epochs", "2"]
    args += ["--pricing-steps", "200", "--micro-steps", "200", "--port", str(port)]
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "pricegraph"), "demo", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        key = _wait_for_key(process, url, lines)
        output = "".join(lines)
        for step in ("train the graph encoder", "customer segments", "fit the demand model"):
            assert step in output
        customer = re.search(r'personalizedPrice\(customerId: \\"(\w+)\\", productId', output)
        product = re.search(r'productId: \\"(\w+)\\"\)', output)
        assert customer and product, output[-3000:]
        query = (
            "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) "
            "{ price listPrice decision { zone } modelVersions { name version } } "
            "whatIf(productIds: [$p], kind: PERCENT_OFF, value: 20, weeks: 4) "
            "{ totals { part unitsUplift } } "
            "recommendations(customerId: $c, first: 3) { key reason } }"
        )
        variables = {"c": customer.group(1), "p": product.group(1)}
        with httpx.Client(timeout=60) as client:
            body = client.post(
                url, json={"query": query, "variables": variables}, headers={"X-API-Key": key}
            ).json()
            anonymous = client.post(url, json={"query": query, "variables": variables}).json()
        assert "errors" not in body, body
        data = body["data"]
        versions = {m["name"]: m["version"] for m in data["personalizedPrice"]["modelVersions"]}
        assert versions["policy"].startswith("hier-")  # the policy train-pricing just wrote
        price, listed = data["personalizedPrice"]["price"], data["personalizedPrice"]["listPrice"]
        assert 0.5 * listed <= price <= 1.5 * listed
        total = next(t for t in data["whatIf"]["totals"] if t["part"] == "scenario")
        assert total["unitsUplift"] > 0  # 20 % off sells more
        assert len(data["recommendations"]) == 3 and all(
            r["reason"] for r in data["recommendations"]
        )
        assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    # the stores are free again: customer payloads carry the segment the demo built
    vectors = EdgeVectorStore(tmp_path / "var" / "vectors")
    try:
        payloads = vectors.payloads("pricegraph_customers")
        segmented = [p for p in payloads.values() if p.get("segment")]
        assert len(segmented) >= 0.9 * len(payloads)
        assert all(p.get("graph_model") for p in payloads.values())
    finally:
        vectors.close()


def test_too_few_days_are_refused_before_the_first_step(env: Path) -> None:
    market = GroundTruthMarketConfig()
    needed = market.start_day + market.num_periods * market.period_days
    result = runner.invoke(app, ["demo", "--days", str(needed - 1), "--no-serve"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert f"--days {needed - 1}" in lines[0] and f"--days {needed} or more" in lines[0]
    assert not (env / "var" / "world").exists()  # nothing generated, nothing loaded
