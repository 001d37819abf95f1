"""``pricegraph publish-encoder``: serve an encoder checkpoint trained elsewhere.

The distributed entry point (``python -m pricegraph.gnn.ddp`` under ``torchrun``)
writes ``checkpoint.pt`` but neither the ``graph`` vectors nor the checkpoint the API
loads; this command does both, as ``train-gnn`` ends
(:func:`~pricegraph.gnn.service.publish_checkpoint`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ...errors import ConfigError, ModelError
from ._common import app, clear_errors, console, load_settings, open_store
from .embed import open_vectors

if TYPE_CHECKING:
    from ..settings import Settings

KINDS = (("products", "product", "Product"), ("customers", "customer", "Customer"))
"""Collection, checkpoint node type and graph label of what is published."""


def encoder_dir(settings: Settings) -> Path:
    """The encoder folder: ``<data_dir>/models/encoder``, where ``train-gnn`` writes
    and whose ``latest.pt`` ``recommend`` and the API (``api.encoder_path``) load."""
    return settings.data_dir / "models" / "encoder"


@app.command("publish-encoder")
@clear_errors
def publish_encoder_command(
    checkpoint_path: Annotated[
        Path,
        typer.Argument(
            metavar="CHECKPOINT",
            help="Encoder checkpoint: checkpoint.pt of `python -m pricegraph.gnn.ddp`.",
        ),
    ],
) -> None:
    """Publish an encoder checkpoint: its customer and product `graph` vectors
    into the vector store, the file as `<data_dir>/models/encoder/<version>.pt`
    and `latest.pt`, as `train-gnn` does.

    For the checkpoint.pt of a distributed run (`torchrun -m pricegraph.gnn.ddp`).
    The graph must hold its customers and products. The API loads the encoder
    when it starts: restart it afterwards.
    """
    from ...embeddings.pipeline import collection_specs
    from ...gnn.checkpoint import FORMAT_VERSION, load_checkpoint
    from ...gnn.service import publish_checkpoint

    if not checkpoint_path.is_file():
        raise ConfigError(
            f"{checkpoint_path}: no such file (expected checkpoint.pt of "
            "`python -m pricegraph.gnn.ddp --out DIR`)"
        )
    try:
        checkpoint = load_checkpoint(checkpoint_path)
    except ModelError as exc:  # one line, without torch's advice on unsafe loading
        what = (
            f"it holds something other than an encoder checkpoint of format {FORMAT_VERSION}"
            if exc.__cause__ is None
            else "torch cannot read it as tensors and plain containers"
        )
        raise ModelError(
            f"{checkpoint_path}: not an encoder checkpoint ({what}); publish-encoder takes "
            "the checkpoint.pt that `python -m pricegraph.gnn.ddp --out DIR` writes"
        ) from None
    settings = load_settings()
    with open_store(settings) as store:
        in_graph = {kind: store.existing_keys(label) for kind, _, label in KINDS}
    missing = {
        kind: sum(str(key) not in in_graph[kind] for key in checkpoint.node_ids[node_type])
        for kind, node_type, _ in KINDS
    }
    for kind, node_type, _ in KINDS:
        total = len(checkpoint.node_ids[node_type])
        if total and missing[kind] == total:
            raise ConfigError(
                f"{checkpoint_path}: none of the checkpoint's {total} {kind} is in the graph "
                f"(snapshot {checkpoint.snapshot_id}): was it trained on another graph?"
            )
    specs = collection_specs(
        settings.vectors.collection_prefix,
        settings.embeddings.dimension,
        settings.vectors.graph_dim,
    )
    with open_vectors(settings) as vectors:
        path, written = publish_checkpoint(checkpoint, vectors, specs, encoder_dir(settings))
    console.print(
        f"model {checkpoint.model_version} (snapshot {checkpoint.snapshot_id}, "
        f"served by {checkpoint.served_by})"
    )
    for written_path in (path, path.parent / "latest.pt"):
        console.print(f"checkpoint written: {written_path}", soft_wrap=True)
    console.print(f"graph vectors written: {written}")
    for kind, node_type, _ in KINDS:
        if missing[kind]:
            console.print(
                f"{missing[kind]} of the checkpoint's {len(checkpoint.node_ids[node_type])} "
                f"{kind} are not in the graph (their vectors are written all the same)"
            )
    console.print("the API loads the encoder when it starts: restart it to serve this one")
