"""Benchmark: training speed and peak memory of the shipped encoder, with LightGCN for scale.

Cases:

* ``online-retail``: the real Online Retail file loaded into a temporary embedded
  store and exported with product text vectors (all-MiniLM-L6-v2 on the product
  names, or random unit vectors with ``--random-text``); cut-off = start of the
  test window of :func:`~pricegraph.gnn.split.temporal_split`.
* ``synthetic-50k``: 50,000 customers, 20,000 products, 1,000,000 purchases over
  365 days (times ``--scale``), built directly as a :class:`GraphSnapshot` by
  :func:`synthetic_snapshot` (see there for the generator); same cut-off rule.

Per case and device, the encoder (:func:`~pricegraph.gnn.train.train_encoder`,
default :class:`EncoderConfig`, ``--epochs`` epochs, no validation) runs in a fresh
process; LightGCN (:func:`~pricegraph.gnn.lightgcn.train_lightgcn`, default config,
CPU, ``--lightgcn-epochs``) on the same purchases before the cut-off runs in another.
Each reports setup seconds (everything before the first step), the first epoch,
the mean of the later epochs (``s/epoch``; the first epoch when there is only
one), optimizer steps per epoch, and its peak RSS: ``ru_maxrss`` at the end minus
``ru_maxrss`` right after imports (so the graph it loads counts, the interpreter
and libraries do not); on CUDA also ``torch.cuda.max_memory_allocated``.
Timings on shared cores are noisy: read ratios, not absolute numbers.

Prints the table; writes ``bench_gnn.json`` and ``bench_gnn.png`` to ``--out``.

Usage: ``python bench/bench_gnn.py [--cases online-retail synthetic-50k] [--epochs 3]
[--lightgcn-epochs 3] [--device cpu [cuda]] [--scale 1.0] [--random-text] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)
CASES = ("online-retail", "synthetic-50k")
SYNTHETIC_SIZES = (50_000, 20_000, 1_000_000)
"""Customers, products and purchases of ``synthetic-50k`` at ``--scale 1``."""
START_S = 1_704_067_200
"""2024-01-01 00:00 UTC: first second of the synthetic purchases."""


def _maxrss_mib() -> float:
    """Peak resident set size of this process so far, MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def synthetic_snapshot(
    num_customers: int,
    num_products: int,
    num_purchases: int,
    *,
    days: int = 365,
    communities: int = 50,
    in_community: float = 0.7,
    zipf_exponent: float = 1.0,
    feature_dim: int = 384,
    seed: int = 0,
):
    """A purchase graph with heavy-tailed degrees and taste communities (numpy, vectorised).

    Products get Zipf popularity :math:`w_p \\propto r_p^{-s}` (random rank
    :math:`r_p`), customers log-normal activity :math:`a_c \\sim \\mathrm{LogN}(0, 1)`;
    customers and products are spread evenly over ``communities``. A purchase draws
    its customer by activity, then with probability ``in_community`` a product of
    the customer's community by popularity, else any product by popularity; its time
    is uniform over ``days`` days from 2024-01-01 UTC. Product ``x`` is a unit vector
    near its community's random centroid. Layout as
    :func:`~pricegraph.gnn.data.export_hetero`: every edge type of ``EDGE_RELS``
    (only purchases non-empty) with its ``rev_`` type, sorted by (customer, product).
    """
    import torch
    from torch_geometric.data import HeteroData

    from pricegraph.gnn.data import EDGE_RELS, EVENT_EDGE_TYPES, PURCHASED, GraphSnapshot

    rng = np.random.default_rng(seed)
    communities = max(1, min(communities, num_customers, num_products))
    popularity = 1.0 / rng.permutation(np.arange(1, num_products + 1)) ** zipf_exponent
    activity = rng.lognormal(0.0, 1.0, num_customers)
    customer_community = rng.permutation(np.arange(num_customers) % communities)
    product_community = rng.permutation(np.arange(num_products) % communities)

    customers = rng.choice(num_customers, num_purchases, p=activity / activity.sum())
    products = rng.choice(num_products, num_purchases, p=popularity / popularity.sum())
    local = rng.random(num_purchases) < in_community
    # Inverse-CDF draw inside the community: products ordered by community, one cumsum.
    order = np.argsort(product_community, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(popularity[order])])
    bounds = np.searchsorted(product_community[order], np.arange(communities + 1))
    community = customer_community[customers[local]]
    low, high = cumulative[bounds[community]], cumulative[bounds[community + 1]]
    position = np.searchsorted(cumulative, low + rng.random(community.size) * (high - low)) - 1
    position = np.clip(position, bounds[community], bounds[community + 1] - 1)
    products[local] = order[position]
    time_s = START_S + rng.integers(0, days * 86_400, num_purchases)
    keep = np.lexsort((time_s, products, customers))

    centroids = rng.standard_normal((communities, feature_dim))
    x = centroids[product_community] + rng.standard_normal((num_products, feature_dim))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    data = HeteroData()
    sizes = {"customer": num_customers, "product": num_products, "brand": 0, "category": 0}
    for node_type, size in sizes.items():
        data[node_type].num_nodes = size
    data["customer"].is_anonymous = torch.zeros(num_customers, dtype=torch.bool)
    data["product"].x = torch.from_numpy(x)
    data["product"].has_text = torch.ones(num_products, dtype=torch.bool)
    for src, name, dst in EDGE_RELS:
        if (src, name, dst) == PURCHASED:
            edge_index = torch.from_numpy(np.stack([customers[keep], products[keep]]))
            times = torch.from_numpy(time_s[keep])
        else:
            edge_index, times = torch.zeros((2, 0), dtype=torch.long), torch.zeros(0).long()
        data[src, name, dst].edge_index = edge_index
        data[dst, f"rev_{name}", src].edge_index = edge_index.flip(0)
        if (src, name, dst) in EVENT_EDGE_TYPES:
            data[src, name, dst].time = times
            data[dst, f"rev_{name}", src].time = times.clone()
    node_ids = {
        t: np.array([f"{t[0].upper()}{i:08d}" for i in range(size)], dtype=object)
        for t, size in sizes.items()
    }
    payload = json.dumps({"purchases": num_purchases, "max_time_s": int(time_s.max())})
    return GraphSnapshot(data, node_ids, hashlib.sha256(payload.encode()).hexdigest()[:16])


def _online_retail(args: argparse.Namespace) -> dict[str, Any]:
    """Load, embed and export the real data; save the snapshot for the model processes."""
    import torch
    from rich.progress import Progress

    from pricegraph.gnn import export_hetero, temporal_split
    from pricegraph.graph import GraphConfig, make_graph_store
    from pricegraph.loaders.online_retail import load_online_retail

    timings: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="pricegraph-gnn-bench-"))
    try:
        started = time.perf_counter()
        store = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=1024))
        load_online_retail(store, args.file, rejects_dir=work, progress=Progress(disable=True))
        timings["load_s"] = time.perf_counter() - started
        products = store.node_frame("Product")
        names = products["name"].fillna("").astype(str).str.strip()
        names = names.where(names != "", products["id"].astype(str)).tolist()
        started = time.perf_counter()
        if args.random_text:
            vectors = np.random.default_rng(0).standard_normal((len(names), 384))
            vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("f4")
        else:
            from pricegraph.embeddings.encoder import SentenceEncoder

            vectors = SentenceEncoder(device="cpu").encode(names)
        timings["text_s"] = time.perf_counter() - started
        started = time.perf_counter()
        snapshot = export_hetero(
            store, product_features=dict(zip(products["id"], vectors, strict=True))
        )
        timings["export_s"] = time.perf_counter() - started
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cutoff_s = temporal_split(snapshot).test.start_s
    torch.save({"snapshot": snapshot, "cutoff_s": cutoff_s}, args.work / "online-retail.pt")
    return timings


def _load_case(args: argparse.Namespace):
    """The case's snapshot and cut-off (generated, or saved by the prepare process)."""
    import torch

    from pricegraph.gnn import temporal_split

    if args.case == "online-retail":
        saved = torch.load(args.work / "online-retail.pt", weights_only=False)
        return saved["snapshot"], saved["cutoff_s"]
    customers, products, purchases = (max(2, round(n * args.scale)) for n in SYNTHETIC_SIZES)
    snapshot = synthetic_snapshot(customers, products, purchases)
    return snapshot, temporal_split(snapshot).test.start_s


class _StepClock:
    """Timestamps of every optimizer step and of the first module forward in the process."""

    def __init__(self) -> None:
        from torch.nn.modules.module import register_module_forward_pre_hook
        from torch.optim.optimizer import register_optimizer_step_post_hook

        self.steps: list[float] = []
        self.first_forward: float | None = None
        self._step = register_optimizer_step_post_hook(lambda *_: self._tick())
        self._forward = register_module_forward_pre_hook(lambda *_: self._first())

    def _tick(self) -> None:
        self.steps.append(time.perf_counter())

    def _first(self) -> None:
        if self.first_forward is None:
            self.first_forward = time.perf_counter()
            self._forward.remove()

    def epochs(self, num_epochs: int) -> tuple[int, list[float]]:
        """Steps per epoch and each epoch's seconds (epoch 1 from the first forward)."""
        per_epoch = len(self.steps) // num_epochs
        ends = [self.steps[per_epoch * e - 1] for e in range(1, num_epochs + 1)]
        starts = [self.first_forward or self.steps[0], *ends[:-1]]
        return per_epoch, [end - start for end, start in zip(ends, starts, strict=True)]


def _child(args: argparse.Namespace) -> dict[str, Any]:
    """One measured process: ``prepare``, ``encoder`` or ``lightgcn`` of one case."""
    import torch

    from pricegraph.gnn.data import PURCHASED
    from pricegraph.gnn.lightgcn import LightGCNConfig, train_lightgcn
    from pricegraph.gnn.train import EncoderConfig, train_encoder

    rss_after_imports = _maxrss_mib()
    if args.child == "prepare":
        return _online_retail(args)
    started = time.perf_counter()
    snapshot, cutoff_s = _load_case(args)
    row: dict[str, Any] = {"graph_s": time.perf_counter() - started}
    edge_index, time_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    train_edges = edge_index[:, time_s < cutoff_s]
    row |= {
        "customers": snapshot.num_customers,
        "products": snapshot.num_products,
        "nodes": sum(int(snapshot.data[t].num_nodes) for t in snapshot.data.node_types),
        "purchases": int(edge_index.shape[1]),
        "purchases_before_cutoff": int(train_edges.shape[1]),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    clock = _StepClock()
    started = time.perf_counter()
    if args.child == "encoder":
        config = EncoderConfig(max_epochs=args.epochs, device=args.device)
        result = train_encoder(snapshot, config, cutoff_s=cutoff_s, epochs=args.epochs)
        total_s = time.perf_counter() - started
        seconds = [h["seconds"] for h in result.history]
        steps, _ = clock.epochs(args.epochs)
        row["message_passing_edges"] = sum(
            int(a.values().numel()) for a in result.inputs.adj_t.values()
        )
        row["setup_s"] = total_s - sum(seconds)
    else:
        train_lightgcn(
            train_edges, snapshot.num_customers, snapshot.num_products, LightGCNConfig(),
            epochs=args.lightgcn_epochs,
        )  # fmt: skip
        steps, seconds = clock.epochs(args.lightgcn_epochs)
        row["setup_s"] = (clock.first_forward or started) - started
    row |= {
        "steps_per_epoch": steps,
        "first_epoch_s": seconds[0],
        "s_per_epoch": float(np.mean(seconds[1:] if len(seconds) > 1 else seconds)),
        "epoch_s": seconds,
        "peak_rss_mib": _maxrss_mib() - rss_after_imports,
        "rss_after_imports_mib": rss_after_imports,
    }
    if device.type == "cuda":
        row["peak_cuda_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
        row["cuda_device"] = torch.cuda.get_device_name(device)
    return row


def _child_main(args: argparse.Namespace, result: Path) -> None:
    """Entry of a measured process: run :func:`_child` and write its row as JSON."""
    result.write_text(json.dumps(_child(args), indent=2), encoding="utf-8")


def _spawn(context, args: argparse.Namespace, child: str, case: str, device: str) -> dict:
    """Run one measured process (a fresh one from the fork server) and return its row."""
    result = args.work / f"{case}-{child}-{device.replace(':', '')}.json"
    child_args = argparse.Namespace(**{**vars(args), "child": child, "case": case})
    child_args.device = device
    process = context.Process(target=_child_main, args=(child_args, result))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(
            f"the {child} process of {case} on {device} exited with {process.exitcode} "
            "(its traceback is above)"
        )
    return json.loads(result.read_text(encoding="utf-8"))


def _table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (case, device): encoder figures, the CPU LightGCN baseline, ratios."""
    lines = []
    for row in rows:
        encoder, lightgcn = row["encoder"], row["lightgcn"]
        line = {
            "case": row["case"],
            "device": row["device"],
            "nodes": encoder["nodes"],
            "purchases": encoder["purchases"],
            "steps/epoch": encoder["steps_per_epoch"],
            "setup s": encoder["setup_s"],
            "s/epoch encoder": encoder["s_per_epoch"],
            "s/epoch LightGCN (cpu)": lightgcn["s_per_epoch"],
            "ratio": encoder["s_per_epoch"] / lightgcn["s_per_epoch"],
            "peak MiB encoder": encoder["peak_rss_mib"],
            "peak MiB LightGCN": lightgcn["peak_rss_mib"],
        }
        if "peak_cuda_mib" in encoder:
            line["peak CUDA MiB"] = encoder["peak_cuda_mib"]
        cpu = [r for r in rows if r["case"] == row["case"] and r["device"] == "cpu"]
        if row["device"] != "cpu" and cpu:
            line["speed-up vs cpu"] = cpu[0]["encoder"]["s_per_epoch"] / encoder["s_per_epoch"]
        lines.append(line)
    return lines


def _plot(lines: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{line['case']}\n({line['device']})" for line in lines]
    positions = np.arange(len(lines))
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(10, 3.8))
    for offset, key, name in ((-0.2, "encoder", "encoder"), (0.2, "LightGCN", "LightGCN (cpu)")):
        speed.bar(positions + offset, [line[f"s/epoch {name}"] for line in lines], 0.4, label=name)
        memory.bar(positions + offset, [line[f"peak MiB {key}"] for line in lines], 0.4, label=name)
    for ax, title in ((speed, "seconds per epoch"), (memory, "peak RSS above imports, MiB")):
        ax.set_xticks(positions, labels)
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--epochs", type=int, default=3, help="encoder epochs")
    parser.add_argument("--lightgcn-epochs", type=int, default=3)
    parser.add_argument("--device", nargs="+", default=["cpu"], help="e.g. cpu cuda")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor of synthetic-50k")
    parser.add_argument("--random-text", action="store_true", help="random product vectors")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if args.epochs < 1 or args.lightgcn_epochs < 1 or args.scale <= 0:
        parser.error("--epochs and --lightgcn-epochs must be >= 1 and --scale > 0")

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    # Every measured process is forked from a server that imported torch and PyG once
    # (about 10 s per import on 2 shared cores) and ran nothing else. Importing them
    # asks the CUDA driver for its devices, after which a forked child cannot use CUDA
    # ("CUDA error: initialization error", even Adam on the CPU asks): with a GPU
    # every process starts fresh instead.
    methods = multiprocessing.get_all_start_methods()
    fork = "forkserver" in methods and all(d == "cpu" for d in args.device)
    context = multiprocessing.get_context("forkserver" if fork else "spawn")
    if fork:
        context.set_forkserver_preload(["torch", "pricegraph.gnn.train", "pricegraph.gnn.lightgcn"])
    console = Console(width=max(Console().width, 160))
    text = "random unit vectors" if args.random_text else "all-MiniLM-L6-v2 on product names"
    args.work = Path(tempfile.mkdtemp(prefix="pricegraph-gnn-bench-"))
    rows, prepared = [], {}
    jobs = sum((c == "online-retail") + 1 + len(args.device) for c in args.cases)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn())
    try:
        with Progress(*columns, MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("", total=jobs)
            for case in args.cases:
                if case == "online-retail":
                    bar.update(task, description=f"{case}: load, embed, export")
                    prepared[case] = _spawn(context, args, "prepare", case, "cpu")
                    bar.advance(task)
                bar.update(task, description=f"{case}: LightGCN on cpu")
                lightgcn = _spawn(context, args, "lightgcn", case, "cpu")
                bar.advance(task)
                for device in args.device:
                    bar.update(task, description=f"{case}: encoder on {device}")
                    encoder = _spawn(context, args, "encoder", case, device)
                    rows.append(
                        {"case": case, "device": device, "encoder": encoder, "lightgcn": lightgcn}
                    )
                    bar.advance(task)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    lines = _table(rows)
    first = rows[0]["encoder"]
    title = (
        f"GNN training speed: encoder {args.epochs} epochs, LightGCN {args.lightgcn_epochs}; "
        f"torch {first['torch']}, {first['threads']} threads (default); shared cores, noisy"
    )
    table = Table(title=title)
    keys = list({key: None for line in lines for key in line})
    for key in keys:
        table.add_column(key, justify="left" if key in ("case", "device") else "right")
    for line in lines:
        values = (line.get(key, "") for key in keys)
        table.add_row(*(f"{v:.2f}" if isinstance(v, float) else str(v) for v in values))
    console.print(table)
    for case, timings in prepared.items():
        console.print(
            f"{case} preparation s: {json.dumps({k: round(v, 1) for k, v in timings.items()})}"
        )
    console.print(f"online-retail product text: {text}; synthetic: random unit vectors")
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "torch": first["torch"],
        "threads": first["threads"],
        "cpus": os.cpu_count(),
        "epochs": args.epochs,
        "lightgcn_epochs": args.lightgcn_epochs,
        "scale": args.scale,
        "product_text": text,
        "start_method": context.get_start_method(),
    }
    report = {"meta": meta, "table": lines, "runs": rows, "preparation": prepared}
    (args.out / "bench_gnn.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    _plot(lines, args.out / "bench_gnn.png")
    console.print(f"wrote {args.out / 'bench_gnn.json'} and {args.out / 'bench_gnn.png'}")


if __name__ == "__main__":
    main()
