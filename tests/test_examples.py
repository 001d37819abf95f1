"""The example notebooks in ``examples/`` run end to end on a small world.

One world is generated, loaded, embedded, segmented and trained through the CLI
(subprocesses, as a user would); notebooks 1-3 open its embedded stores, notebook 4
talks to a ``pricegraph serve`` subprocess over HTTP. After each notebook a probe
cell prints its named results as JSON, and the tests check what they hold.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from pricegraph.pricing.guardrails.config import GuardrailConfig

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = (
    "graph_analytics.ipynb",
    "segments.ipynb",
    "similarity.ipynb",
    "personalized_price.ipynb",
)
CUSTOMERS, PRODUCTS = 200, 60
KEY_NAME, KEY = "examples-desk", "examples-pricing-key-0123456789abcdef"
CLI = Path(sys.executable).with_name("pricegraph")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cli(*args: str) -> None:
    """Run ``pricegraph ARGS`` with the current environment; fail with its output."""
    done = subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"pricegraph {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small world with text vectors, segments and a trained encoder; yields the folder.

    The environment stays set for the module, so that notebook kernels inherit it.
    """
    root = tmp_path_factory.mktemp("examples")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "PRICEGRAPH_DATA_DIR": str(root / "var"),
            "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "128",
            "PRICEGRAPH_CONFIG": str(root / "absent.toml"),
            "PRICEGRAPH_DEVICE": "cpu",
            "PRICEGRAPH_API__KEYS": json.dumps([{"name": KEY_NAME, "key": KEY, "role": "pricing"}]),
            "OMP_NUM_THREADS": "1",
        }.items():
            mp.setenv(name, value)
        mp.chdir(root)
        size = ("--customers", str(CUSTOMERS), "--products", str(PRODUCTS))
        _cli("generate", *size, "--days", "120", "--seed", "3")
        _cli("load", str(root / "var" / "world" / "mapping.toml"))
        _cli("embed")
        _cli("segments", "--k-max", "4", "--seed", "1")
        _cli("embed")  # puts each customer's segment into the vector payloads
        _cli("train-gnn", "--max-epochs", "2", "--no-evaluate", "--seed", "1")
        yield root


def run_notebook(name: str, cwd: Path, probe: str) -> dict[str, Any]:
    """Execute ``examples/<name>`` plus a cell printing ``json.dumps(probe)``; its value.

    A failing cell fails the test with the cell's source and traceback.
    """
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(f"import json\nprint(json.dumps({probe}, default=str))")
    )
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{name} failed:\n{ANSI.sub('', str(exc))}", pytrace=False)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    return json.loads(printed.strip().splitlines()[-1])


def _is_png(path: str, data_dir: Path) -> bool:
    file = Path(path)
    return file.parent == data_dir and file.read_bytes()[:4] == b"\x89PNG"


def _bounds(cost: float, list_price: float) -> tuple[float, float]:
    """Floor and ceiling of the default guardrails (what the server runs with here)."""
    rails = GuardrailConfig()
    floor = max(0.01, cost * (1 + rails.min_margin_pct / 100))
    ceiling = list_price * (1 + (rails.max_markup_over_list_pct or float("inf")) / 100)
    return floor, ceiling


def _is_ranked(rows: list[dict[str, Any]]) -> bool:
    scores = [r["score"] for r in rows]
    return scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean(name: str) -> None:
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.cells[0].cell_type == "markdown"
    assert "pricegraph serve" in nb.cells[0].source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_graph_analytics(world: Path) -> None:
    got = run_notebook(
        "graph_analytics.ipynb",
        world,
        '{"top": top_products.to_dict("records"), "products": len(catalog), '
        '"co_purchase": co_purchase.number_of_nodes(), '
        '"communities": community_table.to_dict("records"), "modularity": modularity, '
        '"structure": int(structure.to_numpy().sum()), "png": str(png_path)}',
    )
    top = got["top"]
    assert len(top) == 10 and got["products"] == PRODUCTS
    ranks = [r["pagerank"] for r in top]
    assert ranks == sorted(ranks, reverse=True) and ranks[-1] > 0
    assert all(r["degree"] >= 2 and r["brand"] and r["category"] for r in top)
    assert max(r["betweenness"] for r in top) > 0
    assert got["communities"] and got["modularity"] > 0
    assert sum(c["products"] for c in got["communities"]) == got["co_purchase"]
    assert all(0 < c["category share"] <= 1 for c in got["communities"])
    assert got["structure"] == PRODUCTS  # one brand and one category per product
    assert _is_png(got["png"], world / "var")


def test_segments(world: Path) -> None:
    got = run_notebook(
        "segments.ipynb",
        world,
        '{"members": member_counts.to_dict("records"), "profiles": profiles.to_dict("records"), '
        '"customers": len(customers), "png": str(png_path)}',
    )
    members = {m["segment_id"]: m["members"] for m in got["members"]}
    profiles = {p["segment_id"]: p for p in got["profiles"]}
    assert 2 <= len(members) <= 4 and sum(members.values()) == got["customers"] == CUSTOMERS
    assert {k: p["members"] for k, p in profiles.items()} == members
    assert all(0 <= m["confidence"] <= 1 for m in got["members"])
    assert max(p["net_spend"] for p in profiles.values()) > 0
    assert all(p["recency_days"] >= 0 and p["orders"] >= 0 for p in profiles.values())
    assert {p["price_sensitivity"] for p in profiles.values()} <= {
        "price-sensitive",
        "price-neutral",
        "price-insensitive",
        "price-unknown",
    }
    assert _is_png(got["png"], world / "var")


def test_similarity(world: Path) -> None:
    got = run_notebook(
        "similarity.ipynb",
        world,
        '{name: globals()[name].to_dict("records") for name in '
        '("like_product", "like_text", "like_customer", "recommended")} | '
        '{"product_id": product_id, "customer_id": customer_id, "positive": positive, '
        '"negative": negative, "max_price": MAX_PRICE}',
    )
    for name in ("like_product", "like_text", "like_customer", "recommended"):
        assert 0 < len(got[name]) <= 5 and _is_ranked(got[name]), name
    assert got["product_id"] not in {r["key"] for r in got["like_product"]}
    assert got["customer_id"] not in {r["key"] for r in got["like_customer"]}
    assert all(r["segment"] for r in got["like_customer"])
    assert all(r["price"] <= got["max_price"] and r["in_stock"] for r in got["like_text"])
    assert any("bag" in r["name"].lower() for r in got["like_text"][:3])
    examples = set(got["positive"]) | set(got["negative"])
    assert got["positive"] and not examples & {r["key"] for r in got["recommended"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(world: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``pricegraph serve`` on a free port of 127.0.0.1; yields the GraphQL URL."""
    port = _free_port()
    log = world / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"pricegraph serve exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no /healthz in 120 s:\n{log.read_text()}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/graphql"
        monkeypatch.setenv("PRICEGRAPH_GRAPHQL_URL", url)
        monkeypatch.setenv("PRICEGRAPH_API_KEY", KEY)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_personalized_price(world: Path, server: str) -> None:
    got = run_notebook(
        "personalized_price.ipynb",
        world,
        '{"quote": quote, "product": product, "products": products, "pairs": pairs, '
        '"floor": floor, '
        '"ceiling": ceiling, "batch": batch.to_dict("records"), "audit": audit.to_dict("records")}',
    )
    quote, product = got["quote"], got["product"]
    assert quote["productId"] == product["key"] and quote["listPrice"] == product["listPrice"]
    floor, ceiling = _bounds(product["cost"], product["listPrice"])
    assert floor <= quote["price"] <= ceiling
    assert got["floor"] == pytest.approx(floor) and got["ceiling"] == pytest.approx(ceiling)
    assert quote["rationale"] and isinstance(quote["isPersonalized"], bool)
    assert {"zone", "zoneMultiplier", "segmentMultiplier", "personalAdjustment"} <= set(
        quote["decision"]
    )
    assert isinstance(quote["boundRules"], list)
    assert {m["name"] for m in quote["modelVersions"]} >= {"policy", "encoder"}

    batch = got["batch"]
    assert [b["productId"] for b in batch] == [p["productId"] for p in got["pairs"]]
    assert len(batch) >= 2 and all(b["zone"] for b in batch)
    for row, item in zip(batch, got["products"], strict=True):
        low, high = _bounds(item["cost"], item["listPrice"])
        assert low <= row["price"] <= high, row

    audit = got["audit"]
    assert quote["quoteId"] in {a["quote_id"] for a in audit}
    assert len(audit) >= 1 + len(batch)
    assert {a["requested_by"] for a in audit} == {KEY_NAME}
    assert {a["product_id"] for a in audit} >= {b["productId"] for b in batch}


def test_examples_are_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.ipynb")) == sorted(NOTEBOOKS)
