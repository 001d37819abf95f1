"""The heterogeneous encoder's inputs and forward pass, on a graph small enough to check
by hand: 2 customers, 3 products; customer 0 bought product 0 twice, customer 1 product 2."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import HeteroData
from torch_geometric.utils import to_torch_csr_tensor

from pricegraph.gnn.features import (
    NUM_BEHAVIOUR_FEATURES,
    NUM_CUSTOMER_FEATURES,
    NUM_PRODUCT_FEATURES,
)
from pricegraph.gnn.hetero import GraphInputs, HeteroEncoder

TEXT_DIM = 4
BOUGHT = ("customer", "purchased", "product")
BOUGHT_BY = ("product", "rev_purchased", "customer")


def _graph() -> HeteroData:
    data = HeteroData()
    data["customer"].num_nodes, data["product"].num_nodes = 2, 3
    data["product"].x = torch.arange(12, dtype=torch.float32).reshape(3, TEXT_DIM) / 10
    edge_index = torch.tensor([[0, 0, 1], [0, 0, 2]])  # (0, 0) twice
    data[BOUGHT].edge_index = edge_index
    data[BOUGHT_BY].edge_index = edge_index.flip(0)
    data["customer", "viewed", "product"].edge_index = torch.empty(2, 0, dtype=torch.long)
    return data


def _inputs(**kwargs) -> GraphInputs:
    product_activity = torch.zeros(3, NUM_PRODUCT_FEATURES)
    product_activity[1, -1] = 1.0  # product 1: never sold before the cut-off
    customer_activity = torch.ones(2, NUM_CUSTOMER_FEATURES)
    return GraphInputs.from_hetero(_graph(), product_activity, customer_activity, **kwargs)


def _encoder(inputs: GraphInputs, **kwargs) -> HeteroEncoder:
    torch.manual_seed(0)
    model = HeteroEncoder(inputs.metadata, inputs.num_nodes, text_dim=TEXT_DIM, **kwargs)
    model.eval()
    with torch.no_grad():
        model(inputs)  # the SAGEConv weights are lazy: the first pass sizes them
    return model


def test_inputs_keep_typed_edges_merge_duplicates_and_mark_history() -> None:
    inputs = _inputs()
    # the edge type without edges is left out; customer and product come first
    assert inputs.metadata == (["customer", "product"], [BOUGHT, BOUGHT_BY])
    assert inputs.num_nodes == {"customer": 2, "product": 3}
    # adj_t is [num_dst, num_src]: product 0 <- customer 0 once (the duplicate merged)
    assert inputs.adj_t[BOUGHT].to_dense().tolist() == [[1, 0], [0, 0], [0, 1]]
    assert inputs.adj_t[BOUGHT_BY].to_dense().tolist() == [[1, 0, 0], [0, 0, 1]]
    assert inputs.product_has_history.tolist() == [True, False, True]
    assert torch.equal(inputs.product_x, _graph()["product"].x)


def test_inputs_keep_named_edge_types_without_edges() -> None:
    viewed = ("customer", "viewed", "product")
    inputs = _inputs(edge_types=[BOUGHT, viewed])
    assert inputs.metadata == (["customer", "product"], [BOUGHT, viewed])
    assert inputs.adj_t[viewed].to_dense().shape == (3, 2)
    assert int(inputs.adj_t[viewed].to_dense().sum()) == 0


def test_inputs_move_to_a_device() -> None:
    moved = _inputs().to("cpu")
    assert moved.adj_t[BOUGHT].device.type == "cpu"
    assert moved.num_nodes == {"customer": 2, "product": 3}


def test_a_graph_without_customers_is_refused() -> None:
    data = _graph()
    data["customer"].num_nodes = 0
    with pytest.raises(ValueError, match="no customer nodes"):
        GraphInputs.from_hetero(
            data, torch.zeros(3, NUM_PRODUCT_FEATURES), torch.zeros(0, NUM_CUSTOMER_FEATURES)
        )


def test_one_layer_is_the_mean_of_the_input_and_the_sage_update() -> None:
    r"""With one layer, :math:`z_p = \frac12 (h^{(0)}_p + W_2 \mathrm{mean}_{c} h^{(0)}_c
    + b + W_1 h^{(0)}_p)` over the one edge type that reaches products."""
    inputs = _inputs()
    model = _encoder(inputs, embedding_dim=5, num_layers=1)
    with torch.no_grad():
        out = model(inputs)
        keep = inputs.product_has_history.float().unsqueeze(1)
        h_product = (
            model.product_input(inputs.product_x, inputs.product_activity)
            + model.embeddings["product"].weight * keep
        )
        h_customer = (
            model.customer_in(inputs.customer_activity) + model.embeddings["customer"].weight
        )
        conv = model.gnn.convs[0]["customer__purchased__product"]
        # product 0's neighbours: customer 0; product 1: none; product 2: customer 1
        neighbours = torch.stack([h_customer[0], torch.zeros(5), h_customer[1]])
        expected = (h_product + conv.lin_l(neighbours) + conv.lin_r(h_product)) / 2
    assert out["product"].shape == (3, 5) and out["customer"].shape == (2, 5)
    assert torch.allclose(out["product"], expected, atol=1e-6)


def test_a_product_without_history_gets_no_id_embedding() -> None:
    inputs = _inputs()
    model = _encoder(inputs, embedding_dim=5, num_layers=2)
    with torch.no_grad():
        before = model(inputs)["product"]
        model.embeddings["product"].weight[1] += 100.0  # product 1: never sold
        model.embeddings["product"].weight[0] += 100.0  # product 0: sold
        after = model(inputs)["product"]
    assert torch.equal(before[1], after[1])
    assert not torch.allclose(before[0], after[0])


def test_new_products_encode_like_isolated_products_without_history() -> None:
    inputs = _inputs()
    model = _encoder(inputs, embedding_dim=5, num_layers=2)
    product_x = torch.rand(3, TEXT_DIM)
    product_activity = torch.zeros(3, NUM_PRODUCT_FEATURES)
    product_activity[:, -1] = 1.0  # never sold
    no_edges = torch.empty(2, 0, dtype=torch.long)
    only_products = {"customer": 0, "product": 3}
    empty = {
        (src, rel, dst): to_torch_csr_tensor(
            no_edges, size=(only_products[dst], only_products[src])
        )
        for src, rel, dst in inputs.metadata[1]
    }
    data = HeteroData()
    data["customer"].num_nodes, data["product"].num_nodes = 2, 3
    data["product"].x = product_x
    data[BOUGHT].edge_index, data[BOUGHT_BY].edge_index = no_edges, no_edges
    isolated = GraphInputs.from_hetero(
        data,
        product_activity,
        torch.ones(2, NUM_CUSTOMER_FEATURES),
        edge_types=[BOUGHT, BOUGHT_BY],
    )
    with torch.no_grad():
        new = model.encode_new_products(product_x, product_activity, empty)
        alone = model(isolated)["product"]
    assert new.shape == (3, 5)
    assert torch.allclose(new, alone, atol=1e-6)


def test_heads_prior_and_repr() -> None:
    inputs = _inputs()
    model = _encoder(inputs, embedding_dim=5, num_layers=2, prior_hidden=0)
    with torch.no_grad():
        prior = model.product_prior(inputs.product_activity)
        linear = model.prior[0]
        expected = inputs.product_activity @ linear.weight[0] + linear.bias[0]
        behaviour = model.customer_behaviour(torch.zeros(2, 5))
    assert prior.shape == (3,) and torch.allclose(prior, expected)
    assert behaviour.shape == (2, NUM_BEHAVIOUR_FEATURES)
    assert torch.equal(behaviour[0], model.behaviour_head.bias)
    assert repr(model) == "HeteroEncoder(text_dim=4, embedding_dim=5, num_layers=2, id_dropout=0.2)"


def test_reset_parameters_draws_id_embeddings_with_std_0_1() -> None:
    inputs = _inputs()
    torch.manual_seed(1)
    model = HeteroEncoder(
        inputs.metadata, {"customer": 2_000, "product": 3}, text_dim=TEXT_DIM, embedding_dim=50
    )
    weight = model.embeddings["customer"].weight
    assert weight.std().item() == pytest.approx(0.1, abs=0.005)
    assert weight.mean().item() == pytest.approx(0.0, abs=0.005)


def test_message_passing_stays_float32_under_bfloat16_autocast() -> None:
    # On CUDA, cuSPARSE has no float32-sparse x bfloat16-dense product: the backward
    # pass of an autocast training step failed there until the SAGE layers ran in float32.
    inputs = _inputs()
    model = _encoder(inputs, embedding_dim=5, num_layers=2)
    model.train()
    with torch.no_grad():
        expected = model.eval()(inputs)["product"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(inputs)
    assert all(value.dtype == torch.float32 for value in out.values())
    torch.testing.assert_close(out["product"], expected, atol=0.05, rtol=0.05)
    out["product"].sum().backward()
    assert model.product_in.weight.grad is not None
