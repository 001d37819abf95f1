#!/bin/bash
# GPU check of the encoder: the distributed entry point (torchrun, one process) trains
# on CUDA from a synthetic snapshot and writes its outputs, then bench_gnn.py times the
# encoder on CUDA and on the CPU of the same machine (synthetic-50k, random text).
#
# Usage: bash bench/gpu_check.sh   (env: DEV=cuda, SCALE=1.0 for bench_gnn's --scale,
# SNAP="customers products purchases" of the torchrun snapshot, OUT=output folder, PY).
# Works from a checkout without an install: the checkout is put on PYTHONPATH as
# `pricegraph` when the package is not importable.
DEV=${DEV:-cuda}; SCALE=${SCALE:-1.0}; SNAP=${SNAP:-"5000 2000 100000"}
OUT=${OUT:-/tmp/pricegraph-gpu-check}; PY=${PY:-python3}
mkdir -p "$OUT"
if ! $PY -c "import pricegraph" 2>/dev/null; then
  mkdir -p /tmp/pricegraph-src && ln -sfn "$PWD" /tmp/pricegraph-src/pricegraph
  export PYTHONPATH=/tmp/pricegraph-src${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
nvidia-smi -L 2>/dev/null
$PY -c "import torch, torch_geometric as g; print('torch', torch.__version__, 'pyg', g.__version__, 'cuda', torch.cuda.is_available())"
$PY - $SNAP <<'PYEOF'
import sys
sys.path.insert(0, "bench")
from bench_gnn import synthetic_snapshot
from pricegraph.gnn.ddp import save_snapshot
customers, products, purchases = map(int, sys.argv[1:4])
save_snapshot(synthetic_snapshot(customers, products, purchases, seed=1), "/tmp/pricegraph-gpu-snap.pt")
print(f"snapshot: {customers} customers, {products} products, {purchases} purchases")
PYEOF
start=$(date +%s)
timeout 300 "$(dirname "$(command -v $PY)")/torchrun" --standalone --nproc_per_node 1 \
  -m pricegraph.gnn.ddp --snapshot /tmp/pricegraph-gpu-snap.pt --out "$OUT/ddp" --epochs 3 \
  --device "$DEV" > "$OUT/ddp.log" 2>&1
echo "torchrun exit $? in $(( $(date +%s) - start )) s (log: $OUT/ddp.log)"
$PY -c "
import torch
checkpoint = torch.load('$OUT/ddp/encoder.pt', weights_only=False)
print('losses', [round(row['loss'], 4) for row in checkpoint['history']])
embeddings = torch.load('$OUT/ddp/embeddings.pt', weights_only=False)
print({key: tuple(value.shape) for key, value in embeddings.items()})" || tail -30 "$OUT/ddp.log"
$PY bench/bench_gnn.py --cases synthetic-50k --device "$DEV" cpu --epochs 3 \
  --lightgcn-epochs 3 --random-text --scale "$SCALE" --out "$OUT/gnn" 2>&1 | tee "$OUT/bench.log"
