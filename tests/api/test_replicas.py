"""Two API replicas over one PostgreSQL records database behave as one service.

One small world is generated and loaded, then copied, so that each replica has
embedded graph and vector stores of its own (they belong to one process); both share
the audit log, the approval queue and the saved guardrails through
``pricing.database_url``. Each replica is served by its own uvicorn server on a local
port and driven through GraphQL only (httpx), as two pods behind a load balancer would be.

Skipped without ``PRICEGRAPH_TEST_POSTGRES_URL`` (the ``postgres_url`` fixture).
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from support.cli import build_world
from support.server import serving

from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.services import Services, open_services
from pricegraph.api.settings import Settings
from pricegraph.graph.config import GraphConfig
from pricegraph.pricing.config import PricingConfig

KEYS = {
    "reader": "replica-reader-key-0123456789ab",
    "pricing": "replica-pricing-key-0123456789a",
    "admin": "replica-admin-key-0123456789abc",
}
QUOTE = (
    "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) "
    "{ quoteId price listPrice proposedPrice needsApproval isApprovalPending approvalId "
    "boundRules { rule } } }"
)
GUARDRAILS = (
    "mutation($m: Float, $t: Float) { setGuardrails(input: {minMarginPct: $m, "
    "maxMarkupOverListPct: null, approvalThresholdPct: $t}) "
    "{ minMarginPct maxMarkupOverListPct approvalThresholdPct } }"
)
PENDING = (
    "{ pendingPriceChanges { approvalId productId currentPrice proposedPrice quoteId "
    "requestedBy status } }"
)
APPROVE = (
    "mutation($id: String!) { approvePriceChange(id: $id) "
    "{ approvalId productId proposedPrice status decidedBy } }"
)
AUDIT = (
    "query($after: String) { auditLog(first: 100, after: $after) { edges { node "
    "{ quoteId requestedBy productId price isApprovalPending inputs } } "
    "pageInfo { hasNextPage endCursor } } }"
)


@contextmanager
def _serve(services: Services) -> Iterator[httpx.Client]:
    """``services`` behind uvicorn on a free local port, and an httpx client of it."""
    with serving(services) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


@pytest.fixture
def replicas(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Replicas A and B over a small generated world (loaded; no vectors, no models:
    list-price quotes), each with its own copy of the stores, one records database."""
    build_world(tmp_path, 60, 30, 100, 5)  # after postgres_url: skipped without a server
    world = tmp_path / "var"
    monkeypatch.setenv("PRICEGRAPH_CONFIG", str(tmp_path / "absent.toml"))  # restored after
    keys = tuple(ApiKey(name=f"{r}-desk", key=SecretStr(k), role=r) for r, k in KEYS.items())
    opened: list[Services] = []
    try:
        for name in ("a", "b"):
            data_dir = tmp_path / name
            shutil.copytree(world, data_dir)
            settings = Settings(
                data_dir=data_dir,
                graph=GraphConfig(buffer_pool_mb=128),
                pricing=PricingConfig(database_url=SecretStr(postgres_url)),
                device="cpu",
            )
            assert settings.graph.path == data_dir / "graph"
            opened.append(open_services(settings, ApiConfig(keys=keys)))
        with _serve(opened[0]) as a, _serve(opened[1]) as b:
            yield a, b
    finally:
        for services in opened:
            services.close()


def gql(client: httpx.Client, query: str, role: str, **variables: Any) -> dict[str, Any]:
    """The ``data`` of a query that must succeed."""
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"X-API-Key": KEYS[role]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def audit_log(client: httpx.Client) -> list[dict[str, Any]]:
    """Every audit entry, oldest first, page by page."""
    entries: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql(client, AUDIT, "pricing", after=after)["auditLog"]
        entries += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return entries
        after = page["pageInfo"]["endCursor"]


def test_two_replicas_share_guardrails_approvals_and_the_audit_log(
    replicas: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = replicas
    customers = gql(a, "{ customers(first: 2) { edges { node { key } } } }", "reader")
    customer, other = (edge["node"]["key"] for edge in customers["customers"]["edges"])
    listed = gql(a, "{ products(first: 10) { edges { node { key listPrice cost } } } }", "pricing")
    products = [e["node"] for e in listed["products"]["edges"] if e["node"]["cost"]]
    assert len(products) >= 2, listed
    first, second = products[0], products[1]
    quoted: dict[str, str] = {}  # quote id -> the replica that made it

    def quote(client: httpx.Client, role: str, product: str, who: str = customer) -> dict:
        price = gql(client, QUOTE, role, c=who, p=product)["personalizedPrice"]
        quoted[price["quoteId"]] = "a" if client is a else "b"
        return price

    # (1) guardrails set on B hold for A's next quote: a floor far above the list price
    before = quote(a, "reader", first["key"])
    assert before["price"] < first["listPrice"] * 1.3  # the default 30 % markup ceiling
    margin = math.ceil(100 * (1.5 * max(p["listPrice"] / p["cost"] for p in products[:2]) - 1))
    assert 0 < margin <= 1000, products[:2]
    saved = gql(b, GUARDRAILS, "admin", m=float(margin), t=None)["setGuardrails"]
    assert saved == {
        "minMarginPct": margin,
        "maxMarkupOverListPct": None,
        "approvalThresholdPct": None,
    }
    after = quote(a, "reader", first["key"])
    floor = first["cost"] * (1 + margin / 100)
    assert after["price"] == pytest.approx(floor, abs=0.011)
    assert after["price"] > 1.4 * first["listPrice"] > before["price"]
    assert "floor" in {rule["rule"] for rule in after["boundRules"]}
    assert not after["needsApproval"] and after["proposedPrice"] == first["listPrice"]

    # (2) a change filed by A's quote is pending on B, approved there, then quoted by A
    saved = gql(b, GUARDRAILS, "admin", m=float(margin), t=5.0)["setGuardrails"]
    assert saved["approvalThresholdPct"] == 5.0 and saved["minMarginPct"] == margin
    # A reads what B saved, and the history of changes B made
    in_force = gql(a, "{ guardrails { minMarginPct approvalThresholdPct } }", "pricing")
    assert in_force["guardrails"] == {"minMarginPct": margin, "approvalThresholdPct": 5.0}
    history = "{ guardrailChanges { changedBy guardrails { approvalThresholdPct } } }"
    changes = gql(a, history, "admin")["guardrailChanges"]
    assert [c["guardrails"]["approvalThresholdPct"] for c in changes] == [5.0, None]
    assert {c["changedBy"] for c in changes} == {"admin-desk"}
    assert gql(b, PENDING, "pricing")["pendingPriceChanges"] == []
    held = quote(a, "pricing", second["key"])
    assert held["needsApproval"] and held["isApprovalPending"] and held["approvalId"]
    assert held["price"] < 1.3 * second["listPrice"]  # the current price, not the floor
    pending = gql(b, PENDING, "pricing")["pendingPriceChanges"]
    assert len(pending) == 1, pending
    change = pending[0]
    assert change["approvalId"] == held["approvalId"] and change["productId"] == second["key"]
    assert change["quoteId"] == held["quoteId"] and change["requestedBy"] == "pricing-desk"
    assert change["currentPrice"] == held["price"] and change["status"] == "pending"
    target = second["cost"] * (1 + margin / 100)
    assert change["proposedPrice"] == pytest.approx(target, abs=0.011)
    again = quote(b, "pricing", second["key"], who=other)  # B finds it pending too
    assert again["isApprovalPending"] and again["approvalId"] == held["approvalId"]
    assert again["price"] == held["price"]
    approved = gql(b, APPROVE, "pricing", id=change["approvalId"])["approvePriceChange"]
    assert approved["status"] == "approved" and approved["decidedBy"] == "pricing-desk"
    assert approved["proposedPrice"] == change["proposedPrice"]
    assert gql(a, PENDING, "pricing")["pendingPriceChanges"] == []
    response = a.post(
        "/graphql",
        json={"query": APPROVE, "variables": {"id": change["approvalId"]}},
        headers={"X-API-Key": KEYS["pricing"]},
    )
    errors = response.json()["errors"]  # decided on B: A cannot decide it again
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
    assert "already approved" in errors[0]["message"]
    published = quote(a, "pricing", second["key"])
    assert published["price"] == change["proposedPrice"]
    assert not published["needsApproval"] and not published["isApprovalPending"]
    assert gql(b, PENDING, "pricing")["pendingPriceChanges"] == []

    # (3) one audit log: every quote of both replicas, the same listing from either
    quote(b, "reader", first["key"], who=other)
    from_a, from_b = audit_log(a), audit_log(b)
    assert from_a == from_b
    assert [e["quoteId"] for e in from_a] == list(quoted)  # oldest first
    assert sorted(set(quoted.values())) == ["a", "b"]
    by_id = {e["quoteId"]: e for e in from_a}
    assert by_id[before["quoteId"]]["inputs"]["guardrails"]["min_margin_pct"] == 10.0
    recorded = by_id[after["quoteId"]]["inputs"]["guardrails"]
    assert recorded["min_margin_pct"] == margin and recorded["max_markup_over_list_pct"] is None
    assert by_id[held["quoteId"]]["isApprovalPending"]
    assert by_id[published["quoteId"]]["price"] == change["proposedPrice"]
    assert by_id[again["quoteId"]]["requestedBy"] == "pricing-desk"


def test_when_the_records_tables_are_gone_healthz_and_quotes_say_unavailable(
    replicas: tuple[httpx.Client, httpx.Client], postgres_url: str
) -> None:
    a, _ = replicas
    assert a.get("/healthz").json()["records"] == "ok"
    schema = re.search(r"search_path%3D(\w+)", postgres_url)
    assert schema
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema.group(1)} CASCADE")  # the records are gone
    health = a.get("/healthz")
    assert health.status_code == 503
    assert health.json() | {"models": None} == {
        "status": "unavailable",
        "store": "ok",
        "records": "RecordsError",
        "models": None,
    }
    response = a.post(
        "/graphql",
        json={
            "query": '{ personalizedPrice(customerId: "C00001", productId: "P00001") { price } }'
        },
        headers={"X-API-Key": KEYS["reader"]},
    )
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "records database" in error["message"] and "127.0.0.1" not in error["message"]
