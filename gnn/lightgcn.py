"""LightGCN on the customer-product purchase graph: the collaborative baseline.

He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
Recommendation" (SIGIR 2020). Embeddings propagate without weights or
non-linearities over the symmetric-normalised bipartite adjacency
:math:`\\hat A = D^{-1/2} A D^{-1/2}`, and the final embedding averages the layers:

.. math::

    e^{(l+1)} = \\hat A\\, e^{(l)}, \\qquad e = \\tfrac{1}{L+1} \\sum_{l=0}^{L} e^{(l)},
    \\qquad \\hat y_{cp} = e_c^\\top e_p

trained with the BPR loss on (customer, bought product, random product) triples.
The model is PyG's :class:`~torch_geometric.nn.models.LightGCN`; the adjacency is
normalised once, as a sparse CSR matrix (``normalize=False`` in the convolutions),
because re-normalising an ``edge_index`` at every step is about 3x slower on CPU.
Node ids: customers ``0..C-1``, products ``C..C+P-1``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor
from torch_geometric.nn.models import LightGCN

from pricegraph.gnn.early_stopping import EarlyStopping
from pricegraph.gnn.metrics import RankingResult, ScoreFn, evaluate_ranking
from pricegraph.gnn.split import EvalWindow


@dataclass(frozen=True)
class LightGCNConfig:
    """Training settings, saved with the results."""

    embedding_dim: int = 64
    """Size of customer and product embeddings."""
    num_layers: int = 3
    """Propagation layers."""
    lr: float = 0.005
    """Adam learning rate."""
    l2: float = 1e-4
    """Weight of the L2 penalty on the batch's layer-0 embeddings (``lambda_reg``)."""
    batch_size: int = 4096
    """Positive pairs per step."""
    max_epochs: int = 60
    """Upper bound on epochs."""
    eval_every: int = 2
    """Epochs between validation checks."""
    patience: int = 4
    """Validation checks without improvement before stopping."""
    k: int = 20
    """Cut-off of the validation metric (recall@k)."""
    seed: int = 0
    """Seed of initialisation and sampling."""


@dataclass
class TrainResult:
    """What a training run produced."""

    model: LightGCN
    adjacency: Tensor
    num_customers: int
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    def scores(self) -> ScoreFn:
        """Score function ``[batch] -> [batch, num_products]`` for :func:`evaluate_ranking`."""
        with torch.no_grad():
            embedding = self.model.get_embedding(self.adjacency)
        customers, products = embedding[: self.num_customers], embedding[self.num_customers :]
        return lambda batch: customers[batch] @ products.T


def normalized_adjacency(edge_index: Tensor, num_customers: int, num_products: int) -> Tensor:
    """:math:`D^{-1/2} A D^{-1/2}` of the bipartite graph, sparse CSR ``[N, N]``.

    Args:
        edge_index: int64 ``[2, num_purchases]`` (customer, product), duplicates allowed.
        num_customers: ``C``.
        num_products: ``P``; ``N = C + P``.
    """
    pairs = torch.unique(edge_index, dim=1)
    rows = torch.cat([pairs[0], pairs[1] + num_customers])
    cols = torch.cat([pairs[1] + num_customers, pairs[0]])
    size = num_customers + num_products
    degree = torch.bincount(rows, minlength=size).clamp(min=1).float()
    values = (degree[rows] * degree[cols]).rsqrt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR is in beta"
        return (
            torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (size, size))
            .coalesce()
            .to_sparse_csr()
        )


def train_lightgcn(
    edge_index: Tensor,
    num_customers: int,
    num_products: int,
    config: LightGCNConfig,
    *,
    validation: EvalWindow | None = None,
    epochs: int | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train LightGCN on purchases, early-stopping on ``validation`` recall@k.

    Args:
        edge_index: int64 ``[2, num_purchases]`` training purchases (customer, product).
        num_customers: Customers in the snapshot.
        num_products: Products in the snapshot.
        config: Training settings.
        validation: Window for early stopping (its history must be ``edge_index``).
        epochs: Train exactly this many epochs instead (for the refit before the
            test, with the best epoch found on validation).
        on_epoch: Called with each epoch's row (epoch, loss, validation recall and
            NDCG when evaluated), for progress.

    Returns:
        The best model (by validation recall, or the last one without validation).
    """
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    adjacency = normalized_adjacency(edge_index, num_customers, num_products)
    model = LightGCN(
        num_customers + num_products, config.embedding_dim, config.num_layers, normalize=False
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    pairs = torch.unique(edge_index, dim=1)
    result = TrainResult(model, adjacency, num_customers, 0, config=asdict(config))
    stopping = EarlyStopping(model, patience=config.patience)
    for epoch in range(1, (epochs or config.max_epochs) + 1):
        model.train()
        order = torch.randperm(pairs.shape[1], generator=generator)
        total = 0.0
        for start in range(0, order.numel(), config.batch_size):
            batch = pairs[:, order[start : start + config.batch_size]]
            negative = torch.randint(num_products, (batch.shape[1],), generator=generator)
            customer, positive = batch[0], batch[1] + num_customers
            negative = negative + num_customers
            embedding = model.get_embedding(adjacency)
            positive_rank = (embedding[customer] * embedding[positive]).sum(-1)
            negative_rank = (embedding[customer] * embedding[negative]).sum(-1)
            nodes = torch.cat([customer, positive, negative]).unique()
            loss = model.recommendation_loss(
                positive_rank, negative_rank, node_id=nodes, lambda_reg=config.l2
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * batch.shape[1]
        row: dict[str, float] = {"epoch": epoch, "loss": total / pairs.shape[1]}
        if validation is not None and epoch % config.eval_every == 0:
            model.eval()
            metrics: RankingResult = evaluate_ranking(result.scores(), validation, k=config.k)
            row |= {"val_recall": metrics.recall, "val_ndcg": metrics.ndcg}
            if stopping.check(metrics.recall, epoch):
                result.best_epoch = epoch
        result.history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if validation is not None and stopping.should_stop:
            break
    if validation is not None:
        stopping.restore()
    else:
        result.best_epoch = len(result.history)
    model.eval()
    return result


__all__ = ["LightGCNConfig", "TrainResult", "normalized_adjacency", "train_lightgcn"]
