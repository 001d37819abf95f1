"""Benchmark: the Neo4j backend against the embedded store, and the driver's fetch cost.

Two parts, both measured in one run on this machine:

* **Against a server** (``--uri`` or ``PRICEGRAPH_NEO4J_URI``; the database is
  cleared: use a scratch one): the same data set loaded into a fresh embedded store
  and into Neo4j (seconds and the ratio; target <= 2x), loaded again (idempotent),
  then ``edge_arrays(PURCHASED)`` (median of 3; target <= 3x the embedded store)
  and ``node_frame(Customer)``, and on Neo4j the one-record-per-edge read it
  replaced. Without a server this part is skipped, with the reason.
* **The client side alone** (no Neo4j needed): a scripted Bolt server in a child
  process answers with ready-made records, so only the Python driver's work is
  timed: ``--edges`` edges fetched as one record per edge with ``LocalDateTime``
  timestamps (the read ``edge_arrays`` used to make) against one record per source
  node with edge lists and integer timestamps (what it makes now, see
  ``graph/_neo4j_bulk.py``). The server's own time is not in these figures.

Usage::

    python bench/bench_neo4j.py [--uri bolt://localhost:7687] [--file PATH | --synthetic N]
        [--edges 522000] [--python-packstream] [--out DIR]

``--python-packstream`` hides ``neo4j-rust-ext`` from the driver, to compare.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)
SOURCES = 5_800  # about Online Retail's customers


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- the client side: a scripted Bolt server ----------------------------------------------


def _chunked(payload: bytes) -> bytes:
    out = bytearray()
    for start in range(0, len(payload), 0xFFFF):
        part = payload[start : start + 0xFFFF]
        out += struct.pack(">H", len(part)) + part
    return bytes(out + b"\x00\x00")


def _message(signature: bytes, fields: list[Any]) -> bytes:
    from neo4j._codec.packstream.v1 import Packer

    buffer = Packer.new_packable_buffer()
    Packer(buffer).pack_struct(signature, fields)
    return _chunked(bytes(buffer.data))


def _scripted_server(keys: list[str], rows: list[list[Any]], port: Any) -> None:
    """Child process: a Bolt 5.4 server that answers every RUN with ``keys`` and every
    PULL with ``rows``, and every other request with SUCCESS."""
    success = b"\x70"
    pull = b"".join(_message(b"\x71", [row]) for row in rows)
    pull += _message(success, [{"has_more": False, "bookmark": "bench", "db": "neo4j"}])
    listener = socket.create_server(("127.0.0.1", 0))
    port.value = listener.getsockname()[1]

    def client(conn: socket.socket) -> None:
        stream = conn.makefile("rb")
        stream.read(20)  # magic and version proposals
        conn.sendall(bytes([0, 0, 4, 5]))
        while True:
            body = bytearray()
            while True:
                head = stream.read(2)
                if len(head) < 2:
                    return
                (size,) = struct.unpack(">H", head)
                if size == 0 and body:
                    break
                body += stream.read(size)
            tag = body[1]
            if tag == 0x02:  # GOODBYE
                conn.close()
                return
            if tag == 0x01:  # HELLO
                reply = {"server": "Neo4j/5.26.0", "connection_id": "bolt-1", "hints": {}}
                conn.sendall(_message(success, [reply]))
            elif tag == 0x10:  # RUN
                conn.sendall(_message(success, [{"fields": keys, "t_first": 0, "qid": 0}]))
            elif tag == 0x3F:  # PULL
                conn.sendall(pull)
            else:  # LOGON, BEGIN, COMMIT, RESET, ...
                conn.sendall(_message(success, [{}]))

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=client, args=(conn,), daemon=True).start()


def _edge_rows(n_edges: int, *, is_grouped: bool) -> tuple[list[str], list[list[Any]]]:
    """Purchases shaped like Online Retail's (``SOURCES`` customers, 3,000 products)."""
    from neo4j._codec.packstream import Structure

    from pricegraph.graph.schema import rel_spec

    names = list(rel_spec("PURCHASED").properties)

    def edge(i: int, ts: Any) -> list[Any]:
        values = {
            "event_id": f"e{i}",
            "order_id": f"o{i // 20}",
            "qty": i % 12 + 1,
            "unit_price": 1.25 + i % 50,
            "currency": "GBP",
            "ts": ts,
        }
        return [f"p{i % 3_000}", *(values.get(name) for name in names)]

    start_s = 1_291_000_000
    if not is_grouped:  # LocalDateTime: the struct 'd' (seconds, nanoseconds)
        rows = [
            [f"c{i % SOURCES}", *edge(i, Structure(b"d", start_s + 60 * i, 0))]
            for i in range(n_edges)
        ]
        return ["source", "target", *names], rows
    grouped: dict[str, list[list[Any]]] = {}
    for i in range(n_edges):
        grouped.setdefault(f"c{i % SOURCES}", []).append(edge(i, (start_s + 60 * i) * 10**6))
    return ["source", "edges"], [[source, edges] for source, edges in grouped.items()]


def client_side(n_edges: int, repeat: int) -> dict[str, Any]:
    """Seconds the driver takes to fetch ``n_edges`` edges in each shape (scripted server)."""
    import neo4j

    from pricegraph.graph import _neo4j_bulk as bulk
    from pricegraph.graph import _neo4j_cypher as cypher
    from pricegraph.graph.schema import rel_spec

    spec = rel_spec("PURCHASED")
    figures: dict[str, Any] = {"edges": n_edges}
    for shape, is_grouped in (("record_per_edge", False), ("record_per_source", True)):
        keys, rows = _edge_rows(n_edges, is_grouped=is_grouped)
        port = multiprocessing.Value("i", 0)
        server = multiprocessing.Process(
            target=_scripted_server, args=(keys, rows, port), daemon=True
        )
        server.start()
        del rows
        while not port.value:
            time.sleep(0.05)
        driver = neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port.value}", auth=("neo4j", "-"))

        def fetch(is_grouped: bool = is_grouped, driver: Any = driver) -> Any:
            def work(tx: Any) -> Any:
                result = tx.run("RETURN 1")
                return list(result.keys()), result.values()

            with driver.session(database="neo4j", fetch_size=-1) as session:
                names, values = session.execute_read(work)
            if is_grouped:  # what edge_arrays builds now
                return bulk.grouped_edges_frame(spec, values)
            return cypher.columns_frame(names, values)  # what it built before

        frame = fetch()
        assert len(frame) == n_edges, (shape, len(frame))
        figures[f"{shape}_s"] = round(_median_s(fetch, repeat), 3)
        driver.close()
        server.kill()
        server.join()
    figures["speedup"] = round(figures["record_per_edge_s"] / figures["record_per_source_s"], 1)
    return figures


# -- against a server -----------------------------------------------------------------------


def _load(store: Any, args: argparse.Namespace, folder: Path) -> Any:
    from pricegraph.loaders.online_retail import load_online_retail
    from pricegraph.loaders.service import load_files

    if args.synthetic:
        from pricegraph.synthetic import generate_world, write_world
        from pricegraph.synthetic.config import WorldConfig

        mapping = folder / "world" / "mapping.toml"
        if not mapping.exists():
            config = WorldConfig(seed=7, n_customers=args.synthetic, n_products=500, n_days=180)
            write_world(generate_world(config), folder / "world")
        from pricegraph.loaders.mapping import read_mapping

        return load_files(store, read_mapping(mapping), rejects_dir=folder / "rejects")
    return load_online_retail(store, args.file, rejects_dir=folder / "rejects")


def against_server(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Load, re-load and bulk reads on the embedded store and on Neo4j."""
    from pricegraph.graph import GraphConfig, make_graph_store, queries

    neo4j_config = GraphConfig(
        backend="neo4j",
        neo4j_uri=args.uri,
        neo4j_user=os.environ.get("PRICEGRAPH_NEO4J_USER", "neo4j"),
        neo4j_password=os.environ.get("PRICEGRAPH_NEO4J_PASSWORD", ""),
        neo4j_database=os.environ.get("PRICEGRAPH_NEO4J_DATABASE", "neo4j"),
    )
    stores = {
        "embedded": make_graph_store(GraphConfig(path=folder / "graph")),
        "neo4j": make_graph_store(neo4j_config),
    }
    stores["neo4j"].clear()
    figures: dict[str, Any] = {}
    try:
        for name, store in stores.items():
            for run in ("load", "reload"):  # the second finds everything stored
                seconds = _median_s(lambda s=store: _load(s, args, folder), 1)
                figures[f"{name}_{run}_s"] = round(seconds, 1)
            figures[f"{name}_counts"] = store.counts()
            figures[f"{name}_edge_arrays_s"] = round(
                _median_s(lambda s=store: s.edge_arrays("PURCHASED"), 3), 2
            )
            figures[f"{name}_node_frame_s"] = round(
                _median_s(lambda s=store: s.node_frame("Customer"), 3), 2
            )
        neo4j_store: Any = stores["neo4j"]
        figures["neo4j_edge_arrays_record_per_edge_s"] = round(
            _median_s(lambda: queries.edge_arrays(neo4j_store._run_bulk, "PURCHASED"), 3), 2
        )
        assert figures["embedded_counts"] == figures["neo4j_counts"], "the stores differ"
        for what in ("load", "reload", "edge_arrays", "node_frame"):
            embedded = max(figures[f"embedded_{what}_s"], 1e-3)
            figures[f"{what}_ratio"] = round(figures[f"neo4j_{what}_s"] / embedded, 2)
    finally:
        stores["neo4j"].clear()
        for store in stores.values():
            store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--uri", default=os.environ.get("PRICEGRAPH_NEO4J_URI"))
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="Online Retail CSV")
    parser.add_argument("--synthetic", type=int, help="a synthetic world of N customers instead")
    parser.add_argument("--edges", type=int, default=522_000, help="edges of the client part")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python-packstream", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.python_packstream:
        sys.modules["neo4j._rust"] = None  # type: ignore[assignment]  # the driver falls back
    import neo4j

    try:
        import neo4j._rust

        has_rust = True
    except ImportError:
        has_rust = False
    figures: dict[str, Any] = {"driver": neo4j.__version__, "rust_packstream": has_rust}
    print(f"neo4j driver {neo4j.__version__}, packstream in Rust: {has_rust}")

    client = client_side(args.edges, args.repeat)
    figures["client_side"] = client
    print(
        f"client side, {client['edges']:,} edges (scripted Bolt server, median of "
        f"{args.repeat}): a record per edge {client['record_per_edge_s']} s, a record per "
        f"source {client['record_per_source_s']} s ({client['speedup']}x)"
    )

    if not args.uri:
        print(
            "against a server: skipped: no Neo4j server; pass --uri or set "
            "PRICEGRAPH_NEO4J_URI (a scratch database: the benchmark clears it)"
        )
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench_neo4j_"))
        try:
            server = against_server(args, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        figures["server"] = server
        for what in ("load", "reload", "edge_arrays", "node_frame"):
            print(
                f"{what}: embedded {server[f'embedded_{what}_s']} s, "
                f"neo4j {server[f'neo4j_{what}_s']} s ({server[f'{what}_ratio']}x)"
            )
        print(
            "edge_arrays on neo4j, a record per edge (before): "
            f"{server['neo4j_edge_arrays_record_per_edge_s']} s"
        )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_neo4j.json").write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
