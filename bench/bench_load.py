"""Benchmark: loading the Online Retail file, and lookups in the embedded graph.

Prints, measured in one run on this machine:

* the baseline: a plain ``pandas.read_csv`` of the same file (median of 3);
* the whole load (read, validate, write into a fresh embedded graph): seconds,
  rows/s and the ratio to the baseline (target: <= 6x), with its stages;
* the same load run again (idempotent: nothing created);
* point lookup (``get_node``) and purchase history latencies, p50/p99 over
  random keys.

Usage: ``python bench/bench_load.py [--file PATH] [--lookups N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders.online_retail import load_online_retail, read_online_retail, to_canonical

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)


def _timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _latencies(fn, keys: list[str]) -> tuple[float, float]:
    samples = []
    for key in keys:
        started = time.perf_counter()
        fn(key)
        samples.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 99))


def copy_floor(frames: dict[str, pd.DataFrame], folder: Path) -> float:
    """Seconds for LadybugDB alone to COPY the same nodes and edges from ready Arrow
    tables into a fresh database: the floor under any loader on this store."""
    import ladybug
    import pyarrow as pa

    from pricegraph.graph._frames import to_arrow
    from pricegraph.graph.ladybug_store import _ddl_node, _ddl_rel
    from pricegraph.graph.schema import NODES, RELS

    db = ladybug.Database(str(folder), buffer_pool_size=2048 << 20, max_db_size=64 << 30)
    conn = ladybug.Connection(db)
    for spec in NODES.values():
        conn.execute(_ddl_node(spec))
    for rel in RELS.values():
        conn.execute(_ddl_rel(rel))
    events = frames["events"]
    events = events[pd.to_numeric(events["qty"], errors="coerce").notna()]
    ts = pd.to_datetime(events["ts"], errors="coerce")
    events = events[ts.notna()].assign(ts=ts[ts.notna()])
    prices = frames["prices"]

    def nodes(label: str, frame: pd.DataFrame) -> pa.Table:
        spec = NODES[label]
        return to_arrow(frame, spec.properties, spec.columns)

    tables = [
        ("Product", nodes("Product", frames["products"].rename(columns={"product_id": "id"}))),
        ("Customer", nodes("Customer", pd.DataFrame({"id": frames["customers"]["customer_id"]}))),
        ("PricePoint", nodes("PricePoint", pd.DataFrame({"id": prices["price_point_id"]}))),
        ("HAS_PRICE", pa.table({"s": prices["product_id"], "t": prices["price_point_id"]})),
    ]
    for name, kind in (("PURCHASED", "purchase"), ("RETURNED", "return")):
        rows = events[events["event_type"] == kind].rename(
            columns={"customer_id": "source", "product_id": "target"}
        )
        rows = rows.assign(
            qty=rows["qty"].astype("int64"), unit_price=rows["unit_price"].astype(float)
        )
        props = {
            "source": RELS[name].properties["event_id"],
            "target": RELS[name].properties["event_id"],
        }
        props |= RELS[name].properties
        tables.append((name, to_arrow(rows, props, ["source", "target", *RELS[name].properties])))
    started = time.perf_counter()
    for name, table in tables:
        conn.execute(f"COPY {name} FROM $t", {"t": table})
    elapsed = time.perf_counter() - started
    conn.close()
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if not args.file.exists():
        raise SystemExit(f"no data at {args.file}")
    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="pricegraph-bench-"))
    try:
        baseline, frame = _timed(lambda: pd.read_csv(args.file), repeat=3)
        rows = len(frame)
        read_s, raw = _timed(lambda: read_online_retail(args.file))
        canon_s, (frames, _) = _timed(lambda: to_canonical(raw))
        floor_s = copy_floor(frames, work / "floor")
        store = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=2048))
        load_s, report = _timed(lambda: load_online_retail(store, args.file, rejects_dir=work))
        reload_s, again = _timed(lambda: load_online_retail(store, args.file, rejects_dir=work))
        products = store.read_cypher("MATCH (p:Product) RETURN p.id AS id")["id"].tolist()
        customers = store.read_cypher(
            "MATCH (c:Customer) WHERE c.is_anonymous = false RETURN c.id AS id"
        )["id"].tolist()
        lookup = _latencies(
            lambda k: store.get_node("Product", k),
            list(rng.choice(products, size=args.lookups)),
        )
        history = _latencies(
            lambda k: store.purchase_history(k), list(rng.choice(customers, size=args.lookups))
        )
        counts = store.counts()
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    created_again = sum(f.result.created for f in again.files)
    figures = {
        "file": args.file.name,
        "rows": rows,
        "pandas_read_csv_s": round(baseline, 3),
        "load_s": round(load_s, 3),
        "load_rows_per_s": round(rows / load_s),
        "load_to_pandas_ratio": round(load_s / baseline, 2),
        "stage_read_s": round(read_s, 3),
        "stage_canonical_s": round(canon_s, 3),
        "stage_validate_and_write_s": round(load_s - read_s - canon_s, 3),
        "copy_floor_s": round(floor_s, 3),
        "load_to_parse_plus_copy_floor_ratio": round(load_s / (baseline + floor_s), 2),
        "reload_s": round(reload_s, 3),
        "reload_created": created_again,
        "get_node_p50_ms": round(lookup[0], 3),
        "get_node_p99_ms": round(lookup[1], 3),
        "purchase_history_p50_ms": round(history[0], 3),
        "purchase_history_p99_ms": round(history[1], 3),
        "nodes_and_edges": counts,
        "loaded": report.totals,
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        if not isinstance(value, dict):
            print(f"{key:<{width}}  {value}")
    target = "met" if load_s <= 6 * baseline else "NOT met"
    print(f"target (load within 6x pandas parse): {target}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_load.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    plot(figures, args.out / "bench_load.png")


def plot(figures: dict, path: Path) -> None:
    """A bar chart of the load's stages against the baselines (needs the bench extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.barh(["pandas.read_csv"], [figures["pandas_read_csv_s"]], color="#888")
    ax.barh(["LadybugDB COPY floor"], [figures["copy_floor_s"]], color="#bbb")
    left = 0.0
    for key, label, colour in (
        ("stage_read_s", "read", "#4c72b0"),
        ("stage_canonical_s", "adapt", "#55a868"),
        ("stage_validate_and_write_s", "validate + write", "#c44e52"),
    ):
        ax.barh(["Pricegraph load"], [figures[key]], left=left, color=colour, label=label)
        left += figures[key]
    ax.set_xlabel(f"seconds ({figures['file']}, {figures['rows']:,} rows)")
    ax.set_title(f"Load: {figures['load_to_pandas_ratio']}x the pandas parse")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
