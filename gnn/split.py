"""Temporal train / validation / test split of customer -> product purchases.

The timeline ends at the latest purchase. The last ``test_days`` form the test
window, the ``val_days`` before it the validation window, and everything earlier is
train. Each evaluation window ranks, for every evaluated customer, all products
except those the customer bought before the window starts (its *history*), so the
positives of a window are the distinct products a customer bought in the window
and never before (a re-purchase of a history item can never be ranked, and would
cap recall below 1).

History: the validation window sees train purchases; the test window sees train
and validation purchases (models are refitted on both before the final test, as
in temporal recommendation benchmarks). Message passing for a window uses only
event edges (purchases, views, carts) that happened before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from pricegraph.gnn.data import EVENT_EDGE_TYPES, PURCHASED, GraphSnapshot

Part = Literal["val", "test"]
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class CustomerItems:
    """Distinct products per customer in CSR layout.

    Attributes:
        indptr: int64 ``[num_customers + 1]``; customer ``c`` owns
            ``product_index[indptr[c]:indptr[c + 1]]``.
        product_index: int64 ``[num_pairs]``, ascending within each customer.
    """

    indptr: Tensor
    product_index: Tensor

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_customers: int) -> CustomerItems:
        """Deduplicate (customer, product) pairs of ``edge_index`` ``[2, num_edges]``."""
        pairs = torch.unique(edge_index, dim=1) if edge_index.numel() else edge_index
        counts = torch.bincount(pairs[0], minlength=num_customers)
        indptr = torch.zeros(num_customers + 1, dtype=torch.long)
        indptr[1:] = torch.cumsum(counts, 0)
        return cls(indptr, pairs[1].to(torch.long).contiguous())

    @property
    def num_customers(self) -> int:
        """Number of customers the CSR covers (all of the snapshot)."""
        return int(self.indptr.numel() - 1)

    def counts(self) -> Tensor:
        """Distinct products per customer: int64 ``[num_customers]``."""
        return self.indptr[1:] - self.indptr[:-1]

    def pairs(self, customer_index: Tensor) -> Tensor:
        """Products of a batch of customers as ``[2, num_pairs]`` (batch row, product).

        Args:
            customer_index: int64 ``[batch_size]`` customer indices.

        Returns:
            int64 ``[2, num_pairs]``: row 0 is the position in ``customer_index``
            (what PyG's ``LinkPredMetric.update`` wants as ``edge_label_index``).
        """
        starts, ends = self.indptr[customer_index], self.indptr[customer_index + 1]
        counts = ends - starts
        rows = torch.repeat_interleave(torch.arange(customer_index.numel()), counts)
        first = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        offsets = torch.arange(int(counts.sum())) - first + torch.repeat_interleave(starts, counts)
        return torch.stack([rows, self.product_index[offsets]])


@dataclass(frozen=True)
class EvalWindow:
    """One evaluation window (validation or test).

    Attributes:
        start_s: First second of the window (inclusive), UTC epoch seconds.
        end_s: End of the window (exclusive).
        customer_index: int64 ``[num_eval_customers]``, ascending: customers with at
            least one history purchase and at least one new product in the window.
        positives: New products bought in the window, per customer (all customers).
        history: Products bought before ``start_s``, per customer: excluded when
            ranking.
        history_edge_index: int64 ``[2, num_history_purchases]`` purchase edges
            (customer, product) before ``start_s``, duplicates kept: what baselines
            and models are fitted on for this window.
    """

    start_s: int
    end_s: int
    customer_index: Tensor
    positives: CustomerItems
    history: CustomerItems
    history_edge_index: Tensor

    @property
    def num_customers(self) -> int:
        """Number of evaluated customers."""
        return int(self.customer_index.numel())


@dataclass(frozen=True)
class Split:
    """A temporal split of the purchase edges of one snapshot.

    Attributes:
        snapshot_id: The :attr:`GraphSnapshot.snapshot_id` this split belongs to.
        train_end_s: Start of validation = end of train (exclusive), epoch seconds.
        train_edge_index: int64 ``[2, num_train_purchases]`` purchases before
            ``train_end_s`` (customer, product), duplicates kept.
        train_items: Distinct train products per customer.
        val: The validation window (history = train).
        test: The test window (history = train + validation).
    """

    snapshot_id: str
    train_end_s: int
    train_edge_index: Tensor
    train_items: CustomerItems
    val: EvalWindow
    test: EvalWindow

    def window(self, part: Part) -> EvalWindow:
        """The window named ``part`` (``"val"`` or ``"test"``)."""
        if part not in ("val", "test"):
            raise ValueError(f'part: expected "val" or "test", got {part!r}')
        return self.val if part == "val" else self.test


def _window(
    edge_index: Tensor, time_s: Tensor, start_s: int, end_s: int, num_customers: int
) -> EvalWindow:
    before = time_s < start_s
    inside = (time_s >= start_s) & (time_s < end_s)
    history_edge_index = edge_index[:, before]
    history = CustomerItems.from_edge_index(history_edge_index, num_customers)
    window_pairs = torch.unique(edge_index[:, inside], dim=1) if inside.any() else edge_index[:, :0]
    # Drop re-purchases: a pair is new when it is absent from the history pairs.
    num_products = int(edge_index[1].max()) + 1 if edge_index.numel() else 1
    history_keys = torch.unique(history_edge_index[0] * num_products + history_edge_index[1])
    window_keys = window_pairs[0] * num_products + window_pairs[1]
    is_new = ~torch.isin(window_keys, history_keys)
    positives = CustomerItems.from_edge_index(window_pairs[:, is_new], num_customers)
    has_both = (positives.counts() > 0) & (history.counts() > 0)
    customer_index = torch.nonzero(has_both).flatten()
    return EvalWindow(start_s, end_s, customer_index, positives, history, history_edge_index)


def temporal_split(
    snapshot: GraphSnapshot, *, test_days: int = 28, val_days: int = 14, end_s: int | None = None
) -> Split:
    """Split the purchase edges of ``snapshot`` by time.

    Args:
        snapshot: The exported graph.
        test_days: Length of the test window, the last days before ``end_s``.
            (default: ``28``)
        val_days: Length of the validation window just before the test window;
            ``0`` leaves it empty. (default: ``14``)
        end_s: End of the test window (exclusive), UTC epoch seconds: an earlier
            value gives an earlier *origin* (purchases at or after it are never
            seen). ``None`` = one second after the latest purchase.

    Returns:
        The split; see :class:`Split` and :class:`EvalWindow`.

    Raises:
        ValueError: ``test_days`` < 1 or ``val_days`` < 0, no purchases, or
            ``test_days + val_days`` covers every purchase (no train data).
    """
    if test_days < 1 or val_days < 0:
        raise ValueError(
            f"test_days must be >= 1 and val_days >= 0, got test_days={test_days}, "
            f"val_days={val_days}"
        )
    edge_index, time_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    if time_s.numel() == 0:
        raise ValueError("temporal_split: the snapshot has no purchase edges")
    end_s = int(time_s.max()) + 1 if end_s is None else int(end_s)
    test_start_s = end_s - test_days * SECONDS_PER_DAY
    train_end_s = test_start_s - val_days * SECONDS_PER_DAY
    if not bool((time_s < train_end_s).any()):
        raise ValueError(
            f"test_days={test_days} + val_days={val_days} cover every purchase "
            f"(first {int(time_s.min())}, last {end_s - 1} epoch s): nothing left to train on"
        )
    num_customers = snapshot.num_customers
    val = _window(edge_index, time_s, train_end_s, test_start_s, num_customers)
    test = _window(edge_index, time_s, test_start_s, end_s, num_customers)
    return Split(
        snapshot_id=snapshot.snapshot_id,
        train_end_s=train_end_s,
        train_edge_index=val.history_edge_index,
        train_items=val.history,
        val=val,
        test=test,
    )


def window_before(snapshot: GraphSnapshot, window: EvalWindow) -> EvalWindow:
    """The window of the same length just before ``window``, with its own history.

    What a stacked model learns from before it is evaluated on ``window``
    (:mod:`pricegraph.gnn.rerank`): its customers, new products and history are
    built exactly like those of :func:`temporal_split`.

    Raises:
        ValueError: No purchase happened before that earlier window.
    """
    edge_index, time_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    start_s = window.start_s - (window.end_s - window.start_s)
    if not bool((time_s < start_s).any()):
        raise ValueError(
            f"window_before: no purchase before {start_s} epoch s, the start of the window "
            f"before the one starting at {window.start_s}"
        )
    return _window(edge_index, time_s, start_s, window.start_s, snapshot.num_customers)


def message_passing_data(snapshot: GraphSnapshot, before_s: int) -> HeteroData:
    """A copy of ``snapshot.data`` whose event edges all happened before ``before_s``.

    Purchases, views and carts (and their ``rev_`` types) at or after ``before_s``
    are dropped, so a model of a window never sees the window. Pass
    ``split.train_end_s`` for training/validation and ``split.test.start_s`` for
    the final test.
    """
    data = snapshot.data.clone()
    for src, name, dst in EVENT_EDGE_TYPES:
        for edge_type in ((src, name, dst), (dst, f"rev_{name}", src)):
            if edge_type not in data.edge_types:
                continue
            keep = data[edge_type].time < before_s
            data[edge_type].edge_index = data[edge_type].edge_index[:, keep]
            data[edge_type].time = data[edge_type].time[keep]
    return data


__all__ = [
    "CustomerItems",
    "EvalWindow",
    "Part",
    "Split",
    "message_passing_data",
    "temporal_split",
    "window_before",
]
