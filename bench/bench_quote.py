"""Benchmark: quote latency on CPU, one quote and a batch of 1,000, on a synthetic world.

The default synthetic world is generated, loaded into the embedded graph store and
segmented (purchases only); the GNN ``graph`` vectors are random 64-d vectors written
to the embedded vector store (no text embedding or GNN training: the quote path reads
the vectors the same way, and training them would only slow the benchmark). The quote
service is built by :func:`~pricegraph.pricing.quotes.factory.build_quote_service`, as
the CLI's and the API's are (no demand model: quotes do not use one). Quotes use a
small segment policy, the default guardrails, the approval queue and the SQLite audit
log (every quote recorded).

With ``--policy trained`` the quotes use a hierarchical policy (macro PPO, meso
planner, micro TD3) trained on the world with small budgets, as ``pricegraph
train-pricing`` writes it: its quality does not matter here, its per-quote cost
(two small networks per quote) does.

Measured in the same run: one quote (p50/p99 over ``--single`` quotes of random
pairs), a batch of ``--batch`` random pairs (median of ``--repeats``), and the bare
``apply_guardrails_batch`` call on the same number of rows; the batch is also given
as a ratio to the bare call. The quote service caches a snapshot of the graph store
(see :mod:`pricegraph.pricing.quotes.state`); the warm-up batch loads it, and reloading it,
which a request pays once per cache lifetime, is timed apart (``snapshot_load_ms``,
median of ``--repeats``), and so is one quote of a trained policy whose meso level
re-plans the rest of the season from the stock on hand, which the first quote of each
period and stock pays (``quote_with_replan_median_ms``, quoted in the season's second
week: the longest re-plan). The first quote after the snapshot's TTL expired with the
stock changed (a restock of every product, so the re-plan is new) is timed both ways in
the same run, alternating, ``--repeats`` times each: refresh on the request path
(``refresh_ahead=False``: the quote reads the snapshot and solves the re-plan) and
refresh ahead (the quote is answered from the snapshot in hand while a background
thread reads the new one and warms the policy); with refresh ahead, the next quote
after the swap is timed too. The first quote after an event was written (a view) is timed
the same way, alternating: the snapshot dropped (``invalidate``, the quote reads the
store) and marked stale (``mark_stale``, what ``recordEvents`` does: the quote, a second
later, is answered from the snapshot in hand and starts the refresh ahead). The TTL's
clock is moved by hand, so no time is waited.
Prints the figures; writes ``bench/out/quote_<policy>.json``.

Usage: ``python bench/bench_quote.py [--customers N] [--products N] [--days N]
[--policy segment|trained]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import Progress

from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.pipeline import collection_specs
from pricegraph.gnn.service import write_graph_vectors
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.guardrails.batch import apply_guardrails_batch
from pricegraph.pricing.policy import LevelDecision, QuoteState
from pricegraph.pricing.quotes.approvals import ApprovalQueue
from pricegraph.pricing.quotes.audit import AuditLog
from pricegraph.pricing.quotes.factory import build_quote_service
from pricegraph.pricing.quotes.service import QuoteService
from pricegraph.pricing.quotes.state import DEFAULT_CACHE_TTL_S
from pricegraph.segments.clustering import SegmentConfig, build_segments, write_segments
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig


class SegmentPolicy:
    """-5 % zone, -3 % for segmented customers, -1 % personal where a vector exists."""

    version = "bench-segment-1"

    def decide_many(self, states: Sequence[QuoteState]) -> list[LevelDecision]:
        return [self.decide(state) for state in states]

    def decide(self, state: QuoteState) -> LevelDecision:
        personal = -0.01 if state.customer_vector is not None else 0.0
        return LevelDecision(
            "promo", 0.95, 0.97 if state.segment_id else 1.0, personal, personal != 0.0
        )


def trained_policy(work: Path):
    """A hierarchical policy trained on ``work/world`` with small budgets (about a minute)."""
    from dataclasses import replace

    from pricegraph.pricing.policies.training import PricingTrainConfig, train_pricing

    base = PricingTrainConfig()
    config = replace(
        base,
        macro=replace(base.macro, total_timesteps=200),
        micro=replace(base.micro, total_timesteps=200),
        meso=replace(base.meso, explore_episodes=10),
        eval_episodes=0,
        micro_validation_episodes=1,
        device="cpu",
    )
    return train_pricing(work / "world", config, work / "policies").policy


def first_quotes_after_expiry_ms(
    build, store, products: np.ndarray, pairs, at: datetime, repeats: int
) -> dict[str, list[float]]:
    """Latency of the first quote after the snapshot's TTL expired with the stock changed,
    refresh on the request path and ahead, alternating; ``build(refresh_ahead)`` gives a
    quote service, ``pairs(1)`` a random pair, ``at`` the quote time."""
    stock = store.node_frame("Product").set_index("id").loc[products, "stock_units"]
    base = stock.fillna(0).to_numpy(float)
    services, ticks = {}, {False: [0.0], True: [0.0]}  # each service's TTL clock
    for is_ahead in (False, True):
        services[is_ahead] = build(is_ahead)
        services[is_ahead].builder.cache.monotonic = lambda clock=ticks[is_ahead]: clock[0]
        services[is_ahead].quote_batch(pairs(10), requested_by="bench", now=at)  # loaded
    timings: dict[str, list[float]] = {"request_path": [], "ahead": [], "after_swap": []}
    restocks = 0
    for _ in range(repeats):
        for is_ahead, service in services.items():
            restocks += 1  # a stock vector never seen: the re-plan is new
            restocked = {"id": products, "stock_units": base + restocks}
            store.upsert_nodes("Product", pd.DataFrame(restocked))
            ticks[is_ahead][0] += DEFAULT_CACHE_TTL_S + 1  # past the TTL, within 2 x TTL
            ((customer, product),) = pairs(1)
            t = time.perf_counter()
            service.quote(customer, product, requested_by="bench", now=at)
            timings["ahead" if is_ahead else "request_path"].append(
                1000 * (time.perf_counter() - t)
            )
            if is_ahead:
                service.builder.cache.wait_for_refresh()
                ((customer, product),) = pairs(1)
                t = time.perf_counter()
                service.quote(customer, product, requested_by="bench", now=at)
                timings["after_swap"].append(1000 * (time.perf_counter() - t))
    for service in services.values():
        service.close()
    return timings


def first_quotes_after_an_event_ms(
    build, store, pairs, at: datetime, repeats: int
) -> dict[str, list[float]]:
    """Latency of the first quote after an event was written (a view), alternating: the
    snapshot dropped (``invalidate``, what event writes did) and marked stale
    (``mark_stale``, what they do: the quote comes a second later and starts the
    refresh ahead, the worst case of that path); ``build()`` gives a quote service."""
    services = {"invalidate": build(), "mark_stale": build()}
    clock = [0.0]
    services["mark_stale"].builder.cache.monotonic = lambda: clock[0]
    for service in services.values():
        service.quote_batch(pairs(10), requested_by="bench", now=at)  # loaded
    timings: dict[str, list[float]] = {name: [] for name in services}
    written = 0
    for _ in range(repeats):
        for name, service in services.items():
            written += 1
            ((customer, product),) = pairs(1)
            seen = pd.Timestamp(at.replace(tzinfo=None)) - pd.Timedelta(hours=1)
            view = {"source": customer, "target": product,
                    "event_id": f"bench-view-{written}", "ts": seen}  # fmt: skip
            store.upsert_edges("VIEWED", pd.DataFrame([view]))
            if name == "invalidate":
                service.invalidate()
            else:
                service.mark_stale()
                clock[0] += service.builder.cache.stale_refresh_s + 0.1
            ((customer, product),) = pairs(1)
            t = time.perf_counter()
            service.quote(customer, product, requested_by="bench", now=at)
            timings[name].append(1000 * (time.perf_counter() - t))
            service.builder.cache.wait_for_refresh()
    for service in services.values():
        service.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = WorldConfig()
    parser.add_argument("--customers", type=int, default=defaults.n_customers)
    parser.add_argument("--products", type=int, default=defaults.n_products)
    parser.add_argument("--days", type=int, default=defaults.n_days)
    parser.add_argument("--single", type=int, default=200, help="single quotes timed")
    parser.add_argument("--batch", type=int, default=1000, help="pairs per batch")
    parser.add_argument("--repeats", type=int, default=5, help="batches timed")
    parser.add_argument("--policy", choices=("segment", "trained"), default="segment")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    world = WorldConfig(
        n_customers=args.customers,
        n_products=args.products,
        n_days=args.days,
        n_brands=min(defaults.n_brands, args.products),
    )
    work = Path(tempfile.mkdtemp(prefix="pricegraph-quote-"))
    try:
        started = time.perf_counter()
        write_world(generate_world(world), work / "world")
        store = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=512))
        load_files(
            store,
            read_mapping(work / "world" / "mapping.toml"),
            rejects_dir=work / "rejects",
            progress=Progress(disable=True),
        )
        write_segments(store, build_segments(store, None, None, SegmentConfig(k_min=4, k_max=4)))
        customers = store.node_frame("Customer")["id"].astype(str).to_numpy()
        products = store.node_frame("Product")["id"].astype(str).to_numpy()
        specs = collection_specs("bench_", 384, 64)
        vectors = EdgeVectorStore(work / "vectors")
        rng = np.random.default_rng(0)
        for kind, keys in (("customers", customers), ("products", products)):
            matrix = rng.normal(size=(len(keys), 64)).astype(np.float32)
            write_graph_vectors(vectors, specs[kind], keys, matrix, "bench-random")
        setup_s = time.perf_counter() - started
        now = datetime.fromisoformat(world.start).replace(tzinfo=UTC)
        now = now + (np.timedelta64(world.n_days - 1, "D")).astype(object)
        audit = AuditLog(work / "audit.sqlite")
        approvals = ApprovalQueue(work / "audit.sqlite")
        policy = SegmentPolicy() if args.policy == "segment" else trained_policy(work)
        service = build_quote_service(
            store,
            vectors,
            PricingConfig().resolved(work),  # no saved guardrails under work: the defaults
            collections={k: s.name for k, s in specs.items()},
            audit=audit,
            approvals=approvals,
            policy=policy,
            clock=lambda: now,
        )

        def pairs(n: int) -> list[tuple[str, str]]:
            return list(zip(rng.choice(customers, n), rng.choice(products, n), strict=True))

        service.quote_batch(pairs(10), requested_by="bench")  # warm-up
        single_ms = []
        for customer, product in pairs(args.single):
            t = time.perf_counter()
            service.quote(customer, product, requested_by="bench")
            single_ms.append(1000 * (time.perf_counter() - t))
        batch_ms, build_ms = [], []
        for _ in range(args.repeats):
            chosen = pairs(args.batch)
            t = time.perf_counter()
            quotes = service.quote_batch(chosen, requested_by="bench")
            batch_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            service.builder.build(chosen, now)
            build_ms.append(1000 * (time.perf_counter() - t))
        load_ms = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            service.invalidate()
            service.builder.snapshot()
            load_ms.append(1000 * (time.perf_counter() - t))
        replan_ms = []  # a trained policy re-plans the season once per period and stock
        planner, season = getattr(policy, "meso", None), getattr(policy, "season", None)
        # in the season's second week: the longest re-plan (all but one period left)
        early = now if season is None else datetime(*season.start.timetuple()[:3], tzinfo=UTC)
        early += timedelta(days=7 * (season is not None))
        for customer, product in pairs(args.repeats if planner is not None else 0):
            planner.forget_replans()
            t = time.perf_counter()
            service.quote(customer, product, requested_by="bench", now=early)
            replan_ms.append(1000 * (time.perf_counter() - t))

        def build(refresh_ahead: bool = True) -> QuoteService:
            return build_quote_service(
                store,
                vectors,
                PricingConfig().resolved(work),
                collections={k: s.name for k, s in specs.items()},
                audit=audit,
                approvals=approvals,
                policy=policy,
                clock=lambda: now,
                refresh_ahead=refresh_ahead,
            )

        expiry_ms = first_quotes_after_expiry_ms(
            build,
            store,
            products,
            pairs,
            early,
            args.repeats,
        )
        event_ms = first_quotes_after_an_event_ms(
            build,
            store,
            pairs,
            early,
            args.repeats,
        )
        service.close()
        proposed = np.array([q.proposed_price for q in quotes])
        columns = {
            "list_price": np.array([q.list_price for q in quotes]),
            "unit_cost": 0.6 * np.array([q.list_price for q in quotes]),
            "previous_price": np.array([q.list_price for q in quotes]),
            "is_personalized": np.array([q.decision.is_personalized for q in quotes]),
        }
        bare_ms = []
        for _ in range(50):
            t = time.perf_counter()
            apply_guardrails_batch(proposed, columns, PricingConfig().guardrails)
            bare_ms.append(1000 * (time.perf_counter() - t))
        records = audit.count()
        audit.close()
        approvals.close()
        vectors.close()
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    batch = float(np.median(batch_ms))
    bare = float(np.median(bare_ms))
    request_path = float(np.median(expiry_ms["request_path"]))
    ahead = float(np.median(expiry_ms["ahead"]))
    dropped = float(np.median(event_ms["invalidate"]))
    marked = float(np.median(event_ms["mark_stale"]))
    result = {
        "policy": f"{args.policy} ({policy.version})",
        "world": {"customers": len(customers), "products": len(products), "days": world.n_days},
        "vectors": "random 64-d graph vectors in the embedded vector store (no text embedding)",
        "setup_s": round(setup_s, 1),
        "single_quote_p50_ms": round(float(np.percentile(single_ms, 50)), 2),
        "single_quote_p99_ms": round(float(np.percentile(single_ms, 99)), 2),
        "single_quotes": len(single_ms),
        "batch_size": args.batch,
        "batch_quote_median_ms": round(batch, 1),
        "batch_state_build_median_ms": round(float(np.median(build_ms)), 1),
        "snapshot_load_ms": round(float(np.median(load_ms)), 1),
        "quote_with_replan_median_ms": (
            round(float(np.median(replan_ms)), 1) if replan_ms else "n/a (no meso level)"
        ),
        "first_quote_after_ttl_request_path_median_ms": round(request_path, 1),
        "first_quote_after_ttl_refresh_ahead_median_ms": round(ahead, 1),
        "first_quote_after_ttl_request_path_to_ahead_ratio": round(request_path / ahead, 1),
        "next_quote_after_refresh_ahead_swap_median_ms": round(
            float(np.median(expiry_ms["after_swap"])), 1
        ),
        "first_quote_after_an_event_invalidated_median_ms": round(dropped, 1),
        "first_quote_after_an_event_marked_stale_median_ms": round(marked, 1),
        "first_quote_after_an_event_invalidated_to_marked_ratio": round(dropped / marked, 1),
        "bare_guardrail_batch_median_ms": round(bare, 3),
        "batch_to_bare_guardrails_ratio": round(batch / bare, 1),
        "audit_records": records,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"quote_{args.policy}.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
