"""Benchmark: a generated world of 100 k products and 1.5 M events through the whole CLI chain.

Every stage runs as its own ``pricegraph`` process in a fresh data folder
(``PRICEGRAPH_DATA_DIR``, working directory that folder, so no ``pricegraph.toml``
or ``.env`` of the caller applies): ``generate`` (parquet), ``load``, ``embed``,
``train-gnn``, ``segments``, ``fit-demand``, ``train-pricing``, then a handful of
``quote`` calls (best-selling products, customers who bought). For each it records
the wall time and the peak resident memory of that process (``os.wait4`` on the
child: the kernel's ``ru_maxrss`` of that process and the children it waited for,
the figure ``/usr/bin/time -v`` prints).

Floors, measured in the same run on the same data, each in a process of its own:

* ``load``: ``pyarrow.parquet.read_table(...).to_pandas()`` of the world's files,
  then :func:`pricegraph.loaders.writer.write_rows` of those rows (the loader's last
  stage: the store's ``upsert_nodes`` / ``upsert_edges``, which ``COPY`` into an
  empty store, one transaction per ``loaders.chunk_rows`` chunk) into a fresh
  embedded store; no mapping, derivation, validation or rejects.
* ``embed``: loading the configured encoder and one ``encode`` call over the texts
  ``embed`` encodes (product, brand and non-demographic customer profile texts,
  built from the graph before the clock starts); no hashing, payloads or vector
  store writes.

Stages without a floor print ``n/a``. Results go to ``bench_scale.json`` in
``--out``, with each stage's command line; each stage's output goes to
``<out>/logs/<stage>.out`` and ``.err``.

Usage::

    python bench/bench_scale.py --out bench/out/scale           # 100 k products, ~1.5 M events
    python bench/bench_scale.py --tiny --out /tmp/scale         # 300 products, a few k events
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Scale:
    """The world's size and the options that keep each stage reasonable at that size."""

    products: int
    """Products in the generated catalog."""
    customers: int
    """Customers (events scale with customers x days: about 0.25 per customer-day)."""
    brands: int
    """Brands (1 to 288)."""
    days: int
    """Days of events."""
    gnn_epochs: int
    """``train-gnn --max-epochs`` (always ``--no-evaluate``: no baselines)."""
    k_max: int
    """``segments --k-max``."""
    pricing_products: int
    """``train-pricing --from-graph --products``: best sellers priced (a market of the
    whole generated catalog would make the oracle and evaluation far too large)."""
    macro_steps: int
    """``train-pricing --macro-steps`` (PPO timesteps)."""
    micro_steps: int
    """``train-pricing --micro-steps`` (TD3 timesteps)."""
    explore_episodes: int
    """``train-pricing --explore-episodes``."""
    eval_episodes: int
    """``train-pricing --eval-episodes``."""
    quotes: int
    """``quote`` calls, each its own process."""


FULL = Scale(
    products=100_000,
    customers=34_000,
    brands=200,
    days=180,
    gnn_epochs=3,
    k_max=6,
    pricing_products=200,
    macro_steps=1_000,
    micro_steps=5_000,
    explore_episodes=20,
    eval_episodes=2,
    quotes=5,
)
"""About 1.5 M events (0.25 events per customer-day measured on generated worlds)."""

TINY = Scale(
    products=300,
    customers=250,
    brands=24,
    days=90,
    gnn_epochs=1,
    k_max=3,
    pricing_products=20,
    macro_steps=64,
    micro_steps=200,
    explore_episodes=2,
    eval_episodes=2,
    quotes=3,
)
"""A few thousand events, for the smoke test."""


def pricegraph_command() -> list[str]:
    """The ``pricegraph`` console script beside this Python, else its entry point."""
    script = Path(sys.executable).with_name("pricegraph")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from pricegraph.api.cli import main; main()"]


def log(message: str) -> None:
    """One progress line with the UTC time, flushed."""
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


def run_process(
    name: str, command: list[str], *, cwd: Path, env: dict[str, str], logs: Path
) -> dict[str, Any]:
    """Run ``command`` to its end; its wall seconds, peak RSS (MiB) and exit status.

    ``os.wait4`` reaps exactly this child, so ``ru_maxrss`` is its own peak (and that
    of any child it waited for), unlike deltas of ``RUSAGE_CHILDREN``.
    """
    import subprocess

    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "stage": name,
        "command": command,
        "seconds": round(seconds, 3),
        "peak_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "returncode": process.returncode,
        "stdout": str(out),
        "stderr": str(err),
    }


def _tail(path: str, lines: int = 20) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def _options(**values: object) -> list[str]:
    """``--name value`` pairs, underscores as dashes."""
    return [part for k, v in values.items() for part in (f"--{k.replace('_', '-')}", str(v))]


def stage_commands(scale: Scale, world: Path) -> list[tuple[str, list[str]]]:
    """``(stage, pricegraph arguments)`` of the chain up to ``train-pricing``."""
    sizes = _options(
        out=world,
        products=scale.products,
        customers=scale.customers,
        brands=scale.brands,
        days=scale.days,
        format="parquet",
    )
    pricing = _options(
        products=scale.pricing_products,
        macro_steps=scale.macro_steps,
        micro_steps=scale.micro_steps,
        explore_episodes=scale.explore_episodes,
        eval_episodes=scale.eval_episodes,
    )
    return [
        ("generate", ["generate", *sizes]),
        ("load", ["load", str(world / "mapping.toml")]),
        ("embed", ["embed"]),
        ("train-gnn", ["train-gnn", *_options(max_epochs=scale.gnn_epochs), "--no-evaluate"]),
        ("segments", ["segments", *_options(k_max=scale.k_max)]),
        ("fit-demand", ["fit-demand"]),
        ("train-pricing", ["train-pricing", "--from-graph", *pricing]),
    ]


def quote_pairs(world: Path, count: int) -> list[tuple[str, str]]:
    """``count`` (customer, product) pairs: the best-selling products, each with one of
    its buyers."""
    import pyarrow.parquet as pq

    events = pq.read_table(
        world / "events.parquet", columns=["event_type", "customer_id", "product_id"]
    ).to_pandas()
    bought = events[events["event_type"] == "purchase"]
    best = bought["product_id"].value_counts().index[:count]
    return [
        (str(bought.loc[bought["product_id"] == p, "customer_id"].iloc[0]), str(p)) for p in best
    ]


def world_sizes(world: Path) -> dict[str, int]:
    """Rows per file of the generated world (from the parquet footers)."""
    import pyarrow.parquet as pq

    return {
        path.stem: pq.ParquetFile(path).metadata.num_rows
        for path in sorted(world.glob("*.parquet"))
    }


# ---- floors (each runs in its own process: ``--floor load|embed``) ------------------


def floor_load(result: Path) -> None:
    """Read the world's parquet files with pyarrow, then write their rows with the
    loader's ``write_rows`` into a fresh embedded store; writes the timings as JSON."""
    import pyarrow.parquet as pq

    from pricegraph.api.settings import load_settings
    from pricegraph.graph.factory import make_graph_store
    from pricegraph.loaders.writer import write_rows

    settings = load_settings()
    world = settings.data_dir / "world"
    files = tomllib.loads((world / "mapping.toml").read_text())["files"]
    folder = Path(tempfile.mkdtemp(prefix="floor-graph-", dir=settings.data_dir))
    try:
        started = time.perf_counter()
        frames = [(f["kind"], pq.read_table(world / f["path"]).to_pandas()) for f in files]
        read_s = time.perf_counter() - started
        store = make_graph_store(settings.graph.model_copy(update={"path": folder / "graph"}))
        try:
            started = time.perf_counter()
            for kind, frame in frames:
                write_rows(
                    store,
                    kind,
                    frame,
                    set(frame.columns),
                    chunk_rows=settings.loaders.chunk_rows,
                )
            write_s = time.perf_counter() - started
            counts = store.counts()
        finally:
            store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {
        "seconds": round(read_s + write_s, 3),
        "read_s": round(read_s, 3),
        "write_s": round(write_s, 3),
        "rows": sum(len(f) for _, f in frames),
        "counts": counts,
    }
    result.write_text(json.dumps(figures), encoding="utf-8")


def floor_embed(result: Path) -> None:
    """Load the configured encoder and encode the texts ``embed`` encodes (built from
    the graph before the clock starts); writes the timings as JSON."""
    import pandas as pd

    from pricegraph.api.settings import load_settings
    from pricegraph.embeddings.catalog import customer_table
    from pricegraph.embeddings.pipeline import brand_items, product_items
    from pricegraph.embeddings.service import encoder_factory
    from pricegraph.embeddings.texts import customer_profile_text
    from pricegraph.graph.factory import make_graph_store
    from pricegraph.protected import texts_with_demographics

    settings = load_settings()
    store = make_graph_store(settings.graph)
    try:
        customers = customer_table(store).set_index("id")
        profiles = pd.Series(
            [
                customer_profile_text(p, c)
                for p, c in zip(customers["profile_text"], customers["country"], strict=True)
            ],
            index=customers.index,
        )
        profiles = profiles[profiles != ""]
        if not settings.embeddings.allow_demographic_text and len(profiles):
            stating = texts_with_demographics(customers.loc[profiles.index, "profile_text"])
            profiles = profiles.drop(stating.index)
        texts = [
            *product_items(store)["text"],
            *brand_items(store)["text"],
            *profiles,
        ]
    finally:
        store.close()
    started = time.perf_counter()
    encoder = encoder_factory(settings.embeddings)()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    encoder.encode(texts)
    encode_s = time.perf_counter() - started
    figures = {
        "seconds": round(load_s + encode_s, 3),
        "model_load_s": round(load_s, 3),
        "encode_s": round(encode_s, 3),
        "texts": len(texts),
        "texts_per_s": round(len(texts) / encode_s, 1),
    }
    result.write_text(json.dumps(figures), encoding="utf-8")


FLOORS = {"load": floor_load, "embed": floor_embed}

FLOOR_CONTAINS = {
    "load": "pyarrow read_table+to_pandas of the world's parquet files + loaders.writer."
    "write_rows (store upsert_nodes/upsert_edges = COPY into an empty store), no validation",
    "embed": "encoder load + one encode() of the same product, brand and profile texts, "
    "no hashing, payloads or vector writes",
}


def run_floor(stage: str, *, cwd: Path, env: dict[str, str], logs: Path) -> dict[str, Any] | None:
    """Run the floor of ``stage`` in its own process; its figures, ``None`` if it failed."""
    result = cwd / f"floor-{stage}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--floor", stage, str(result)]
    log(f"start floor {stage}")
    process = run_process(f"floor-{stage}", command, cwd=cwd, env=env, logs=logs)
    if process["returncode"] != 0:
        log(f"floor {stage} FAILED (exit {process['returncode']}):\n{_tail(process['stderr'])}")
        return None
    figures = json.loads(result.read_text(encoding="utf-8"))
    figures |= {"process_s": process["seconds"], "peak_mib": process["peak_mib"]}
    log(f"end floor {stage}: {figures['seconds']:.2f} s timed, peak {figures['peak_mib']:.0f} MiB")
    return figures


# ---- the chain ------------------------------------------------------------------------


def run_chain(scale: Scale, data_dir: Path, logs: Path) -> dict[str, Any]:
    """Run every stage (and the floors) in ``data_dir``; stops at the first failure."""
    env = {**os.environ, "PRICEGRAPH_DATA_DIR": str(data_dir)}
    world = data_dir / "world"
    base = pricegraph_command()
    stages: list[dict[str, Any]] = []
    floors: dict[str, dict[str, Any]] = {}
    sizes: dict[str, int] = {}

    def run(name: str, args: list[str]) -> dict[str, Any]:
        log(f"start {name}: pricegraph {' '.join(args)}")
        figures = run_process(name, [*base, *args], cwd=data_dir, env=env, logs=logs)
        figures["args"] = args
        stages.append(figures)
        if figures["returncode"] != 0:
            log(f"{name} FAILED (exit {figures['returncode']}):\n{_tail(figures['stderr'])}")
        else:
            log(f"end {name}: {figures['seconds']:.2f} s, peak {figures['peak_mib']:.0f} MiB")
        return figures

    failed = False
    for name, args in stage_commands(scale, world):
        if run(name, args)["returncode"] != 0:
            failed = True
            break
        if name == "generate":
            sizes = world_sizes(world)
            log("world: " + ", ".join(f"{n:,} {kind}" for kind, n in sizes.items()))
        if name == "embed":
            printed = re.search(r"\((\d+) texts encoded\)", Path(stages[-1]["stdout"]).read_text())
            stages[-1]["texts_encoded"] = None if printed is None else int(printed.group(1))
        if name in FLOORS:
            floor = run_floor(name, cwd=data_dir, env=env, logs=logs)
            if floor is not None:
                floors[name] = floor
    if not failed:
        for number, (customer, product) in enumerate(quote_pairs(world, scale.quotes), 1):
            figures = run(f"quote-{number}", ["quote", customer, product, "--json"])
            if figures["returncode"] != 0:
                break
            record = json.loads(Path(figures["stdout"]).read_text())
            figures["price"] = record.get("price")
            figures["list_price"] = record.get("list_price")
    for figures in stages:
        floor = floors.get(figures["stage"])
        figures["floor_s"] = None if floor is None else floor["seconds"]
        figures["ratio_to_floor"] = (
            None if floor is None else round(figures["seconds"] / floor["seconds"], 2)
        )
    return {"world": sizes, "stages": stages, "floors": floors, "floor_contains": FLOOR_CONTAINS}


def _cell(value: float | None, digits: int) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def print_table(result: dict[str, Any]) -> None:
    """The stage table, then what each floor contains and each stage's options."""
    header = f"{'stage':<14} {'seconds':>10} {'peak MiB':>9} {'floor s':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for s in result["stages"]:
        failed = "" if s["returncode"] == 0 else f"  FAILED (exit {s['returncode']})"
        price = f"  price {s['price']:.2f}" if s.get("price") is not None else ""
        print(
            f"{s['stage']:<14} {_cell(s['seconds'], 2):>10} {_cell(s['peak_mib'], 0):>9} "
            f"{_cell(s['floor_s'], 2):>9} {_cell(s['ratio_to_floor'], 2):>7}{price}{failed}"
        )
    for stage, floor in result["floors"].items():
        detail = {k: v for k, v in floor.items() if k not in ("counts", "seconds")}
        print(f"floor {stage}: {result['floor_contains'][stage]}; {json.dumps(detail)}")
    print("options:")
    for s in result["stages"]:
        print(f"  {s['stage']:<14} pricegraph {' '.join(s['args'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="The smoke-test size (TINY).")
    for field in asdict(FULL):
        parser.add_argument(
            f"--{field.replace('_', '-')}",
            type=int,
            help=f"Default {getattr(FULL, field)} ({getattr(TINY, field)} with --tiny).",
        )
    parser.add_argument("--out", type=Path, help="Folder for bench_scale.json and the logs.")
    parser.add_argument(
        "--work", type=Path, help="Data folder to create (default: a new temporary folder)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the data folder afterwards.")
    parser.add_argument("--floor", nargs=2, metavar=("STAGE", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor is not None:
        FLOORS[args.floor[0]](Path(args.floor[1]))
        return
    scale = TINY if args.tiny else FULL
    chosen = {k: getattr(args, k) for k in asdict(scale) if getattr(args, k) is not None}
    scale = replace(scale, **chosen)
    if args.work is not None and args.work.exists():
        parser.error(f"--work: {args.work} exists; the bench needs a fresh data folder")
    data_dir = args.work or Path(tempfile.mkdtemp(prefix="pricegraph-scale-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir.resolve()
    out = (args.out or data_dir).resolve()
    log(f"scale {asdict(scale)}; data folder {data_dir}")
    try:
        result = run_chain(scale, data_dir, out / "logs")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    result = {"scale": asdict(scale), "data_dir": str(data_dir), **result}
    print_table(result)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "bench_scale.json"
        path.write_text(json.dumps(result, indent=2), encoding="utf-8")
        log(f"wrote {path}")
    if any(s["returncode"] != 0 for s in result["stages"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
