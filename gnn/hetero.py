r"""The shipped encoder: GraphSAGE made heterogeneous with PyG's ``to_hetero``.

Every node type starts from a learned input vector; products also from their text
(all-MiniLM-L6-v2) and their activity before the cut-off, customers from their
activity and price behaviour (what price levels they view and buy, how deep the
markdowns they buy on; see :mod:`pricegraph.gnn.features`):

.. math::

    h^{(0)}_p = W_p [x^{text}_p \,\|\, a_p] + m_p e_p, \qquad
    h^{(0)}_c = W_c a_c + e_c, \qquad h^{(0)}_v = e_v \ (\text{brand, category})

where :math:`e` are free id embeddings and :math:`m_p \in \{0, 1\}` drops a
product's id embedding (with probability ``id_dropout`` while training, always for
products without purchases before the cut-off), so that the text path alone gives
useful vectors to new products. :math:`L` ``SAGEConv`` layers (mean aggregation,
one weight set per edge type, summed over the edge types that reach a node type,
which is what ``to_hetero(..., aggr="sum")`` builds) follow, and the output
averages the layers as in LightGCN:

.. math::

    h^{(l+1)}_v = \sigma\Big(\sum_{r} W^{(l)}_{r,1} h^{(l)}_v
        + W^{(l)}_{r,2}\, \mathrm{mean}_{u \in N_r(v)} h^{(l)}_u\Big), \qquad
    z_v = \tfrac{1}{L+1} \sum_{l=0}^{L} h^{(l)}_v

(:math:`\sigma` = ReLU except after the last layer). A customer's score for a
product is :math:`z_c^\top z_p + b_p` with the product prior :math:`b_p =
\mathrm{MLP}(a_p)`, a learned function of the product's recent activity (what is
selling now).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import SAGEConv, to_hetero
from torch_geometric.utils import to_torch_csr_tensor

from pricegraph.gnn.features import (
    NUM_BEHAVIOUR_FEATURES,
    NUM_CUSTOMER_FEATURES,
    NUM_PRODUCT_FEATURES,
)

NodeDict = dict[str, Tensor]
EdgeDict = dict[tuple[str, str, str], Tensor]


@dataclass(frozen=True)
class GraphInputs:
    """What one forward pass reads (all tensors on the model's device).

    Attributes:
        metadata: ``(node_types, edge_types)`` of the message-passing graph, only
            types with nodes / edges.
        num_nodes: Nodes per type.
        adj_t: Edge type ``(src, rel, dst)`` -> the transposed adjacency, a sparse CSR
            ``[num_dst, num_src]`` of ones (duplicate edges merged), which SAGEConv
            aggregates with one fused sparse-dense product (about 10x faster than
            scatter over an ``edge_index`` on CPU).
        product_x: float32 ``[num_products, text_dim]`` text vectors (zeros = none).
        product_activity: float32 ``[num_products, 7]``.
        customer_activity: float32 ``[num_customers, NUM_CUSTOMER_FEATURES]``.
        product_has_history: bool ``[num_products]``: bought before the cut-off (the
            id embedding is used only for these).
    """

    metadata: tuple[list[str], list[tuple[str, str, str]]]
    num_nodes: dict[str, int]
    adj_t: EdgeDict
    product_x: Tensor
    product_activity: Tensor
    customer_activity: Tensor
    product_has_history: Tensor

    def to(self, device: torch.device | str) -> GraphInputs:
        """A copy with every tensor on ``device``."""
        return GraphInputs(
            self.metadata,
            self.num_nodes,
            {key: value.to(device) for key, value in self.adj_t.items()},
            self.product_x.to(device),
            self.product_activity.to(device),
            self.customer_activity.to(device),
            self.product_has_history.to(device),
        )

    @classmethod
    def from_hetero(
        cls,
        data: HeteroData,
        product_activity: Tensor,
        customer_activity: Tensor,
        *,
        edge_types: list[tuple[str, str, str]] | None = None,
    ) -> GraphInputs:
        """Collect the inputs from a message-passing ``HeteroData``.

        Args:
            data: The graph (e.g. :func:`~pricegraph.gnn.split.message_passing_data`).
            product_activity: float32 ``[num_products, 7]``.
            customer_activity: float32 ``[num_customers, NUM_CUSTOMER_FEATURES]``.
            edge_types: Edge types to build (kept even when ``data`` has none of
                their edges, so inputs at different cut-offs fit one model).
                (default: the types with edges in ``data``; PyG's ``to_hetero`` needs
                a fixed set)
        """
        if edge_types is None:
            edge_types = [t for t in data.edge_types if data[t].edge_index.numel()]
        for required in ("customer", "product"):
            if not data[required].num_nodes:
                raise ValueError(f"the graph has no {required} nodes: nothing to learn from")
        node_types = ["customer", "product"]
        node_types += sorted({t for et in edge_types for t in (et[0], et[2])} - set(node_types))
        num_nodes = {t: int(data[t].num_nodes) for t in node_types}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR is in beta"
            adj_t = {
                (src, rel, dst): to_torch_csr_tensor(
                    torch.unique(data[src, rel, dst].edge_index, dim=1).flip(0),
                    size=(num_nodes[dst], num_nodes[src]),
                )
                for src, rel, dst in edge_types
            }
        product_has_history = product_activity[:, -1] < 0.5
        return cls(
            (node_types, list(edge_types)),
            num_nodes,
            adj_t,
            data["product"].x.to(torch.float32),
            product_activity,
            customer_activity,
            product_has_history,
        )


class _SageStack(nn.Module):
    """Homogeneous template turned heterogeneous by ``to_hetero``."""

    def __init__(self, embedding_dim: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.convs = nn.ModuleList(SAGEConv((-1, -1), embedding_dim) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)  # a module: FX tracing keeps its train/eval flag
        self.scale = 1.0 / (num_layers + 1)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        out = x
        for index, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if index < len(self.convs) - 1:
                x = self.dropout(x.relu())
            out = out + x
        return out * self.scale


class HeteroEncoder(nn.Module):
    """Text- and activity-aware heterogeneous GraphSAGE encoder (see module docs).

    Args:
        metadata: ``(node_types, edge_types)`` of :class:`GraphInputs`.
        num_nodes: Nodes per type.
        text_dim: Width of product text vectors (384 for all-MiniLM-L6-v2).
        embedding_dim: Output width ``d``.
        num_layers: ``SAGEConv`` layers.
        dropout: Dropout between layers while training.
        id_dropout: Probability of dropping a product's id embedding per step.
        prior_hidden: Hidden units of the prior MLP on product activity; ``0`` makes
            the prior linear.

    Shapes:
        output: node type -> float32 ``[num_nodes, embedding_dim]``.
    """

    def __init__(
        self,
        metadata: tuple[list[str], list[tuple[str, str, str]]],
        num_nodes: dict[str, int],
        *,
        text_dim: int,
        embedding_dim: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        id_dropout: float = 0.2,
        prior_hidden: int = 16,
    ) -> None:
        super().__init__()
        self.embedding_dim, self.num_layers, self.id_dropout = embedding_dim, num_layers, id_dropout
        self.text_dim = text_dim
        self.embeddings = nn.ModuleDict(
            {t: nn.Embedding(num_nodes[t], embedding_dim) for t in metadata[0]}
        )
        self.product_in = nn.Linear(text_dim + NUM_PRODUCT_FEATURES, embedding_dim)
        self.customer_in = nn.Linear(NUM_CUSTOMER_FEATURES, embedding_dim)
        self.behaviour_head = nn.Linear(embedding_dim, NUM_BEHAVIOUR_FEATURES)
        self.prior = (
            nn.Sequential(
                nn.Linear(NUM_PRODUCT_FEATURES, prior_hidden),
                nn.ReLU(),
                nn.Linear(prior_hidden, 1),
            )
            if prior_hidden
            else nn.Sequential(nn.Linear(NUM_PRODUCT_FEATURES, 1))
        )
        self.gnn = to_hetero(_SageStack(embedding_dim, num_layers, dropout), metadata, aggr="sum")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise id embeddings with N(0, 0.1^2) and the linear layers by default."""
        for embedding in self.embeddings.values():
            nn.init.normal_(embedding.weight, std=0.1)
        for layer in (self.product_in, self.customer_in, self.behaviour_head, *self.prior):
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def product_input(self, product_x: Tensor, product_activity: Tensor) -> Tensor:
        """The text-and-activity part of :math:`h^{(0)}_p`: ``[num_products, d]``."""
        return self.product_in(torch.cat([product_x, product_activity], dim=1))

    def forward(self, inputs: GraphInputs) -> NodeDict:
        """Encode every node: node type -> float32 ``[num_nodes, embedding_dim]``."""
        keep = inputs.product_has_history
        if self.training and self.id_dropout > 0:
            keep = keep & (torch.rand_like(keep, dtype=torch.float32) >= self.id_dropout)
        x = {t: embedding.weight for t, embedding in self.embeddings.items()}
        x["product"] = self.product_input(inputs.product_x, inputs.product_activity) + x[
            "product"
        ] * keep.unsqueeze(1).to(x["product"].dtype)
        x["customer"] = self.customer_in(inputs.customer_activity) + x["customer"]
        return self._propagate(x, inputs.adj_t)

    def encode_new_products(
        self, product_x: Tensor, product_activity: Tensor, adj_t: EdgeDict
    ) -> Tensor:
        """Vectors of isolated products (no edges, no id embedding) from their inputs.

        Args:
            product_x: float32 ``[n, text_dim]`` text vectors.
            product_activity: float32 ``[n, 7]`` (never sold: see
                :func:`pricegraph.gnn.checkpoint.new_product_activity`).
            adj_t: Empty adjacencies of every edge type of the model, sized for ``n``
                products and no other nodes.

        Returns:
            float32 ``[n, embedding_dim]``: what :meth:`forward` gives a product with
            this text and activity and no edges.
        """
        x = {t: embedding.weight[:0] for t, embedding in self.embeddings.items()}
        x["product"] = self.product_input(product_x, product_activity)
        return self._propagate(x, adj_t)["product"]

    def _propagate(self, x: NodeDict, adj_t: EdgeDict) -> NodeDict:
        """The SAGE layers in float32, also under ``torch.autocast``: cuSPARSE has no
        product of a float32 sparse matrix with bfloat16 vectors, which the backward
        pass of an autocast step would ask for."""
        device_type = next(iter(x.values())).device.type
        with warnings.catch_warnings(), torch.autocast(device_type, enabled=False):
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR is in beta"
            return self.gnn({key: value.float() for key, value in x.items()}, adj_t)

    def customer_behaviour(self, customer: Tensor) -> Tensor:
        """The price behaviour read back from customer vectors ``[n, d]``: ``[n, 6]``
        (the auxiliary target that keeps it in the vectors; see :mod:`.train`)."""
        return self.behaviour_head(customer)

    def product_prior(self, product_activity: Tensor) -> Tensor:
        """:math:`b_p`: float ``[num_products]``."""
        return self.prior(product_activity).squeeze(1)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(text_dim={self.text_dim}, "
            f"embedding_dim={self.embedding_dim}, num_layers={self.num_layers}, "
            f"id_dropout={self.id_dropout})"
        )


__all__ = ["GraphInputs", "HeteroEncoder"]
