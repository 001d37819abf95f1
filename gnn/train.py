"""Train the heterogeneous encoder on purchases before a cut-off (link prediction, BPR).

One visible loop, CleanRL-style: the config, the inputs, the model, then
``for epoch: for step:`` full-graph encode, score a batch of (customer, bought
product, random product) triples, BPR loss plus the read-back of the batch
customers' price behaviour (``behaviour_weight``), step; every ``eval_every`` epochs the
validation window is ranked and the best model is kept (early stopping).

With ``target_days > 0`` (the default) the positives are the customers' new
products in each of up to ``num_windows`` windows of ``target_days`` before the
cut-off (as many as the purchase history holds; see :func:`training_tasks`), drawn
uniformly within their window, with steps shared among the windows in proportion
to their pairs (at least one each). Only with ``target_days = 0`` (one task: every pair
before the cut-off) are positive pairs drawn with probability proportional to
:math:`2^{-\\mathrm{age}/h}` (``recency_half_life_days`` :math:`h`, age of the
pair's latest purchase at the cut-off), so the model learns what customers buy
*now*; ``None`` draws every pair equally often.

Device: CUDA when available (``device="auto"``) with bfloat16 autocast when
``amp``; CPU otherwise, deterministic for a given seed. Under ``torchrun`` the
same function trains with ``DistributedDataParallel`` (see :mod:`pricegraph.gnn.ddp`):
each process takes its share of every epoch's pairs and gradients are averaged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from pricegraph.devices import resolve_device
from pricegraph.gnn.data import PURCHASED, GraphSnapshot
from pricegraph.gnn.early_stopping import EarlyStopping
from pricegraph.gnn.features import (
    NUM_ACTIVITY_FEATURES,
    customer_activity,
    customer_price_behaviour,
    product_activity,
)
from pricegraph.gnn.hetero import GraphInputs, HeteroEncoder
from pricegraph.gnn.metrics import RankingResult, ScoreFn, evaluate_ranking
from pricegraph.gnn.split import SECONDS_PER_DAY, EvalWindow, message_passing_data

VIEWED = ("customer", "viewed", "product")
IN_CATEGORY = ("product", "in_category", "category")
OF_BRAND = ("product", "of_brand", "brand")


@dataclass(frozen=True)
class EncoderConfig:
    """Encoder and training settings, saved with every checkpoint."""

    embedding_dim: int = 64
    """Output width of customer and product vectors (the Qdrant ``graph`` vector)."""
    num_layers: int = 2
    """``SAGEConv`` layers."""
    dropout: float = 0.1
    """Dropout between layers while training."""
    id_dropout: float = 0.3
    """Probability of dropping a product's id embedding per step (cold-start training)."""
    prior_hidden: int = 0
    """Hidden units of the product-activity prior MLP (``0`` = linear prior);
    ``train-gnn`` chooses it on validation (``CompareConfig.encoder_prior_hidden``)."""
    lr: float = 0.01
    """Adam learning rate."""
    l2: float = 1e-4
    """Weight of the L2 penalty on the batch's output vectors."""
    behaviour_weight: float = 1.0
    """Weight of the auxiliary loss that reads the batch customers' price behaviour
    back from their vectors (mean squared error of a linear head): it keeps what the
    graph shows of a customer's price response in the ``graph`` vector, which pricing
    reads as state. ``0`` trains on purchases alone."""
    batch_size: int = 8192
    """Positive pairs per step."""
    steps_per_epoch: int = 0
    """Steps per epoch; ``0`` = one pass over the distinct pairs."""
    max_epochs: int = 30
    """Upper bound on epochs."""
    eval_every: int = 1
    """Epochs between validation checks."""
    patience: int = 4
    """Validation checks without improvement before stopping."""
    k: int = 20
    """Cut-off of the validation metric (recall@k)."""
    target_days: int = 28
    """Length of each next-purchase target window, days; ``0`` = train on all pairs
    before the cut-off with inputs at the cut-off (classic link prediction)."""
    num_windows: int = 12
    """Target windows stacked back from the cut-off (with ``target_days > 0``)."""
    recency_half_life_days: float | None = 60.0
    """Half-life of the positive-pair sampling weight in the classic mode, days;
    ``None`` = uniform."""
    seed: int = 0
    """Seed of initialisation, sampling and dropout."""
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``."""
    amp: bool = True
    """bfloat16 autocast on CUDA (ignored on CPU)."""

    def __post_init__(self) -> None:
        for name in ("embedding_dim", "num_layers", "batch_size", "max_epochs", "eval_every", "k"):
            if getattr(self, name) < 1:
                raise ValueError(f"EncoderConfig.{name}: expected >= 1, got {getattr(self, name)}")
        if not 0 <= self.id_dropout < 1 or not 0 <= self.dropout < 1:
            raise ValueError(
                f"EncoderConfig.id_dropout and dropout must be in [0, 1), got "
                f"{self.id_dropout} and {self.dropout}"
            )
        if not self.behaviour_weight >= 0:
            raise ValueError(
                f"EncoderConfig.behaviour_weight: expected >= 0, got {self.behaviour_weight}"
            )
        if self.recency_half_life_days is not None and self.recency_half_life_days <= 0:
            raise ValueError(
                "EncoderConfig.recency_half_life_days: expected > 0 or None, got "
                f"{self.recency_half_life_days}"
            )


@dataclass
class EncoderResult:
    """A trained encoder with the inputs it was trained on.

    Attributes:
        model: The encoder (best validation state, eval mode).
        inputs: The message-passing inputs at ``cutoff_s`` (on the model's device).
        cutoff_s: Purchases before this second were seen, UTC epoch seconds.
        best_epoch: Epoch of the kept state.
        history: One row per epoch: ``epoch``, ``loss``, ``seconds`` and, on
            validation epochs, ``val_recall`` / ``val_ndcg``.
        config: The :class:`EncoderConfig` as a dict.
    """

    model: HeteroEncoder
    inputs: GraphInputs
    cutoff_s: int
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    @torch.no_grad()
    def embeddings(self) -> dict[str, Tensor]:
        """Output vectors on the CPU: node type -> float32 ``[num_nodes, d]``, plus
        ``product_prior`` float32 ``[num_products]``."""
        self.model.eval()
        out = {key: value.float().cpu() for key, value in self.model(self.inputs).items()}
        out["product_prior"] = self.model.product_prior(self.inputs.product_activity).cpu()
        return out

    def scores(self) -> ScoreFn:
        """Score function ``[batch] -> [batch, num_products]`` for :func:`evaluate_ranking`."""
        vectors = self.embeddings()
        customers, products = vectors["customer"], vectors["product"]
        prior = vectors["product_prior"]
        return lambda batch: customers[batch] @ products.T + prior


def _product_index(snapshot: GraphSnapshot, edge_type: tuple[str, str, str]) -> Tensor:
    """int64 ``[num_products]``: each product's (first) ``edge_type`` target, -1 if none."""
    out = torch.full((snapshot.num_products,), -1, dtype=torch.long)
    if edge_type in snapshot.data.edge_types:
        edge_index = snapshot.data[edge_type].edge_index
        out[edge_index[0].flip(0)] = edge_index[1].flip(0)  # the first edge is written last
    return out


def customer_features(snapshot: GraphSnapshot, cutoff_s: int) -> Tensor:
    """Activity and price behaviour of every customer before ``cutoff_s``:
    float32 ``[num_customers, NUM_CUSTOMER_FEATURES]`` (:mod:`pricegraph.gnn.features`)."""
    data = snapshot.data
    purchases, time_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    nan = torch.full((purchases.shape[1],), torch.nan, dtype=torch.float64)
    unit_price = getattr(data[PURCHASED], "unit_price", nan)
    list_price = getattr(
        data["product"], "list_price", torch.full((snapshot.num_products,), torch.nan)
    )
    if VIEWED in data.edge_types:
        views, view_time_s = snapshot.edge_index(VIEWED), snapshot.edge_time(VIEWED)
    else:
        views, view_time_s = torch.zeros((2, 0), dtype=torch.long), torch.zeros(0, dtype=torch.long)
    behaviour = customer_price_behaviour(
        purchases, time_s, unit_price, views, view_time_s, list_price,
        _product_index(snapshot, IN_CATEGORY), _product_index(snapshot, OF_BRAND),
        snapshot.num_customers, cutoff_s,
    )  # fmt: skip
    activity = customer_activity(purchases, time_s, snapshot.num_customers, cutoff_s)
    return torch.cat([activity, behaviour], dim=1)


def build_inputs(snapshot: GraphSnapshot, cutoff_s: int) -> GraphInputs:
    """Message-passing graph and activity features of ``snapshot`` before ``cutoff_s``."""
    edge_index, time_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    data = snapshot.data
    return GraphInputs.from_hetero(
        message_passing_data(snapshot, cutoff_s),
        product_activity(edge_index, time_s, snapshot.num_products, cutoff_s),
        customer_features(snapshot, cutoff_s),
        edge_types=[t for t in data.edge_types if data[t].edge_index.numel()],
    )


def training_pairs(
    snapshot: GraphSnapshot, cutoff_s: int, half_life_days: float | None
) -> tuple[Tensor, Tensor]:
    """Distinct (customer, product) pairs bought before ``cutoff_s`` and their weights.

    Returns:
        int64 ``[2, num_pairs]`` and float64 ``[num_pairs]`` sampling weights
        :math:`2^{-age/h}` of the pair's latest purchase (all ones for ``None``).
    """
    edge_index, time_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    before = time_s < cutoff_s
    edge_index, time_s = edge_index[:, before], time_s[before]
    if edge_index.numel() == 0:
        raise ValueError(f"no purchases before cutoff_s={cutoff_s}: nothing to train on")
    keys = edge_index[0] * snapshot.num_products + edge_index[1]
    unique, inverse = torch.unique(keys, return_inverse=True)
    latest = torch.full((unique.numel(),), -(2**62), dtype=torch.long)
    latest = latest.scatter_reduce(0, inverse, time_s, reduce="amax")
    pairs = torch.stack([unique // snapshot.num_products, unique % snapshot.num_products])
    if half_life_days is None:
        return pairs, torch.ones(unique.numel(), dtype=torch.float64)
    age_days = (cutoff_s - latest).to(torch.float64) / SECONDS_PER_DAY
    return pairs, torch.exp2(-age_days / half_life_days)


@dataclass(frozen=True)
class TrainingTask:
    """Positive pairs to learn and the inputs the model sees when scoring them."""

    inputs: GraphInputs
    pairs: Tensor
    weights: Tensor


def next_purchase_pairs(snapshot: GraphSnapshot, start_s: int, end_s: int) -> Tensor:
    """(customer, product) pairs first bought in ``[start_s, end_s)``: int64 ``[2, n]``.

    A pair already bought before ``start_s`` is left out, like the positives of an
    evaluation window (re-purchases are never ranked).
    """
    edge_index, time_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    size = snapshot.num_products
    keys = edge_index[0] * size + edge_index[1]
    inside = torch.unique(keys[(time_s >= start_s) & (time_s < end_s)])
    inside = inside[~torch.isin(inside, keys[time_s < start_s])]
    return torch.stack([inside // size, inside % size])


def training_tasks(
    snapshot: GraphSnapshot, cutoff_s: int, config: EncoderConfig
) -> list[TrainingTask]:
    r"""What to train on before ``cutoff_s``.

    With ``target_days`` :math:`T > 0` (the default), the model learns the task it
    is judged on: window :math:`j = 1..` ``num_windows`` (fewer when window
    :math:`j` would start at or before the first purchase: the loop stops there; a
    window without new purchases is skipped) covers
    :math:`[t_c - jT, t_c - (j-1)T)`, its positives are the customers' *new*
    products bought in it, and its inputs (message passing, activity) are built at
    the window's start, so no positive leaks into what the model sees. Otherwise
    one task: every pair before the cut-off, inputs at the cut-off, drawn with the
    recency weights of :func:`training_pairs`.
    """
    if config.target_days <= 0:
        pairs, weights = training_pairs(snapshot, cutoff_s, config.recency_half_life_days)
        return [TrainingTask(build_inputs(snapshot, cutoff_s), pairs, weights)]
    tasks = []
    first_s = int(snapshot.edge_time(PURCHASED).min())
    for window in range(1, config.num_windows + 1):
        start_s = cutoff_s - window * config.target_days * SECONDS_PER_DAY
        end_s = start_s + config.target_days * SECONDS_PER_DAY
        if start_s <= first_s:
            break
        pairs = next_purchase_pairs(snapshot, start_s, end_s)
        if pairs.shape[1]:
            weights = torch.ones(pairs.shape[1], dtype=torch.float64)
            tasks.append(TrainingTask(build_inputs(snapshot, start_s), pairs, weights))
    if not tasks:
        raise ValueError(
            f"no new purchases in the {config.num_windows} windows of "
            f"{config.target_days} days before cutoff_s={cutoff_s}: nothing to train on"
        )
    return tasks


class _Scorer(torch.nn.Module):
    """What DDP wraps: one ``forward`` that uses every parameter the loss reads."""

    def __init__(self, encoder: HeteroEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, inputs: GraphInputs) -> tuple[dict[str, Tensor], Tensor, Tensor]:
        z = self.encoder(inputs)
        behaviour = self.encoder.customer_behaviour(z["customer"])
        return z, self.encoder.product_prior(inputs.product_activity), behaviour


def _bpr_step(
    model: torch.nn.Module,
    inputs: GraphInputs,
    batch: Tensor,
    negative: Tensor,
    config: EncoderConfig,
    autocast: torch.autocast | None,
) -> Tensor:
    with autocast if autocast is not None else torch.autocast("cpu", enabled=False):
        z, prior, behaviour = model(inputs)
        customer, positive = z["customer"][batch[0]], z["product"][batch[1]]
        target = inputs.customer_activity[batch[0], NUM_ACTIVITY_FEATURES:]
        read_back = F.mse_loss(behaviour[batch[0]], target)
        other = z["product"][negative]
        positive_score = (customer * positive).sum(-1) + prior[batch[1]]
        negative_score = (customer * other).sum(-1) + prior[negative]
        loss = F.softplus(negative_score - positive_score).mean()
        penalty = (customer.pow(2).sum() + positive.pow(2).sum() + other.pow(2).sum()) / (
            2 * batch.shape[1]
        )
    return loss.float() + config.l2 * penalty.float() + config.behaviour_weight * read_back.float()


def train_encoder(
    snapshot: GraphSnapshot,
    config: EncoderConfig,
    *,
    cutoff_s: int,
    validation: EvalWindow | None = None,
    epochs: int | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> EncoderResult:
    """Train the encoder on purchases before ``cutoff_s``.

    Args:
        snapshot: The exported graph (product ``x`` = text vectors).
        config: Settings.
        cutoff_s: Train (and pass messages) on events strictly before this second;
            ``split.train_end_s`` to tune on validation, ``split.test.start_s`` for
            the refit before the test, or past the last event for production.
        validation: Window for early stopping (it must start at ``cutoff_s``).
        epochs: Train exactly this many epochs instead of early stopping.
        on_epoch: Called with each epoch's history row (progress bars, logging).

    Returns:
        The best model by validation recall@k (the last one without validation).
    """
    device = resolve_device(config.device)
    distributed = dist.is_available() and dist.is_initialized()
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if config.batch_size % world:
        raise ValueError(
            f"EncoderConfig.batch_size={config.batch_size}: expected a multiple of the "
            f"world size {world} under DistributedDataParallel"
        )
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    inputs = build_inputs(snapshot, cutoff_s).to(device)
    encoder = HeteroEncoder(
        inputs.metadata,
        inputs.num_nodes,
        text_dim=int(inputs.product_x.shape[1]),
        embedding_dim=config.embedding_dim,
        num_layers=config.num_layers,
        dropout=config.dropout,
        id_dropout=config.id_dropout,
        prior_hidden=config.prior_hidden,
    ).to(device)
    with torch.no_grad():  # materialise the lazy SAGEConv weights before DDP / Adam
        encoder(inputs)
    model: torch.nn.Module = _Scorer(encoder)
    if distributed:  # brand / category outputs feed no loss: their last layer is unused
        model = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda" and config.amp
        else None
    )
    tasks = [
        TrainingTask(task.inputs.to(device), task.pairs, task.weights)
        for task in training_tasks(snapshot, cutoff_s, config)
    ]
    num_pairs = sum(task.pairs.shape[1] for task in tasks)
    steps = config.steps_per_epoch or math.ceil(num_pairs / config.batch_size)
    # Steps go to the tasks in proportion to their pairs, at least one each.
    shares = torch.tensor([task.pairs.shape[1] for task in tasks], dtype=torch.float64)
    task_steps = torch.clamp(torch.round(shares / shares.sum() * steps), min=1).long().tolist()
    result = EncoderResult(encoder, inputs, cutoff_s, 0, config=asdict(config))
    stopping = EarlyStopping(encoder, patience=config.patience)
    for epoch in range(1, (epochs or config.max_epochs) + 1):
        started = time.perf_counter()
        model.train()
        # Every process draws the same epoch sample and keeps its share of it.
        total, done = 0.0, 0
        for task, count in zip(tasks, task_steps, strict=True):
            draws = torch.multinomial(
                task.weights, count * config.batch_size, True, generator=generator
            )
            negatives = torch.randint(snapshot.num_products, draws.shape, generator=generator)
            draws, negatives = draws[rank::world], negatives[rank::world]
            for batch_draws, batch_negatives in zip(
                draws.split(config.batch_size // world),
                negatives.split(config.batch_size // world),
                strict=True,
            ):
                loss = _bpr_step(
                    model,
                    task.inputs,
                    task.pairs[:, batch_draws].to(device),
                    batch_negatives.to(device),
                    config,
                    autocast,
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total, done = total + float(loss.detach()), done + 1
        row: dict[str, float] = {
            "epoch": epoch,
            "loss": total / done,
            "seconds": time.perf_counter() - started,
        }
        if validation is not None and epoch % config.eval_every == 0:
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
    encoder.eval()
    return result


__all__ = [
    "EncoderConfig",
    "EncoderResult",
    "build_inputs",
    "train_encoder",
    "training_pairs",
]
