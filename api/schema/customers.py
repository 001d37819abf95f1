"""Customer queries: customers, segments, similar customers and graph neighbourhoods
(role reader)."""

from __future__ import annotations

import inspect

import strawberry
from strawberry import relay
from strawberry.relay import GlobalIDValueError
from strawberry.types import Info

from ...graph.base import GraphStore
from ..context import Context
from ..errors import invalid
from ..pages import customer_page
from ..permissions import IsReader
from .catalog import load_required
from .inputs import check_key
from .nodes import Customer, Product, Segment
from .pagination import decode_cursor, keyset_connection, page_size

MAX_NEIGHBOURHOOD_DEPTH = 2


@strawberry.type(description="A customer with its cosine similarity to the query customer.")
class ScoredCustomer:
    key: str
    score: float

    @strawberry.field
    async def customer(self, info: Info[Context, None]) -> Customer | None:
        return await Customer.load(info, self.key)


@strawberry.type(description="A node of a neighbourhood.")
class GraphNode:
    id: str = strawberry.field(description="`Label:key`.")
    label: str
    key: str


@strawberry.type(description="A directed edge of a neighbourhood.")
class GraphEdge:
    source: str = strawberry.field(description="`Label:key` of the start.")
    target: str = strawberry.field(description="`Label:key` of the end.")
    type: str = strawberry.field(description="Relationship type, e.g. PURCHASED.")


@strawberry.type(description="Nodes around a seed and the edges between them.")
class Neighbourhood:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    is_truncated: bool = strawberry.field(description="More nodes were within reach.")


def neighbourhood(store: GraphStore, label: str, key: str, depth: int, limit: int) -> Neighbourhood:
    """The seed and nodes within ``depth`` hops, at most ``limit`` nodes (seed first)."""
    graph = store.to_networkx(seeds=[(label, key)], hops=depth)
    seed = f"{label}:{key}"
    names = [seed, *sorted(n for n in graph.nodes if n != seed)]
    kept = set(names[:limit])
    nodes = [
        GraphNode(id=n, label=graph.nodes[n]["label"], key=str(graph.nodes[n]["id"]))
        for n in names[:limit]
    ]
    edges = sorted(
        {
            (a, b, str(data.get("type", k)))
            for a, b, k, data in graph.edges(keys=True, data=True)
            if a in kept and b in kept
        }
    )
    return Neighbourhood(
        nodes=nodes,
        edges=[GraphEdge(source=a, target=b, type=t) for a, b, t in edges],
        is_truncated=len(names) > limit,
    )


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description="One customer by key; NOT_FOUND when unknown.", permission_classes=[IsReader]
    )
    async def customer(self, info: Info[Context, None], id: str) -> Customer:
        return await load_required(info, Customer, id)  # type: ignore[return-value]

    @strawberry.field(description="Customers by key, filtered.", permission_classes=[IsReader])
    async def customers(
        self,
        info: Info[Context, None],
        country: str | None = None,
        segment_id: str | None = None,
        is_anonymous: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[Customer]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        rows = await services.read(
            customer_page,
            services.store,
            after=decode_cursor(after, "key"),
            limit=limit + 1,
            country=check_key(country, "country") if country is not None else None,
            segment=check_key(segment_id, "segmentId") if segment_id is not None else None,
            is_anonymous=is_anonymous,
        )
        info.context.loaders.prime("Customer", rows)
        nodes = [Customer.from_row(r) for r in rows]
        return keyset_connection(nodes, [n.id for n in nodes], limit)

    @strawberry.field(
        description="One segment by key; NOT_FOUND when unknown.", permission_classes=[IsReader]
    )
    async def segment(self, info: Info[Context, None], id: str) -> Segment:
        return await load_required(info, Segment, id)  # type: ignore[return-value]

    @strawberry.field(
        description="Customers whose histories are most alike (itself excluded).",
        permission_classes=[IsReader],
    )
    async def similar_customers(
        self, info: Info[Context, None], customer_id: str, first: int | None = None
    ) -> list[ScoredCustomer]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        key = check_key(customer_id, "customerId")
        hits = await services.read(services.similarity.similar_customers, key, limit=limit)
        return [ScoredCustomer(key=str(h.key), score=float(h.score)) for h in hits]

    @strawberry.field(
        description=(
            "The graph around a customer or a product: `depth` <= 2 hops, at most `limit` nodes."
        ),
        permission_classes=[IsReader],
    )
    async def neighbourhood(
        self,
        info: Info[Context, None],
        customer_id: str | None = None,
        product_id: str | None = None,
        depth: int = 1,
        limit: int = 50,
    ) -> Neighbourhood:
        services = info.context.services
        if (customer_id is None) == (product_id is None):
            raise invalid("customerId", "give exactly one of customerId and productId")
        if not 1 <= depth <= MAX_NEIGHBOURHOOD_DEPTH:
            raise invalid("depth", f"expected 1 <= depth <= {MAX_NEIGHBOURHOOD_DEPTH}", depth)
        most = services.config.limits.max_page_size * 5
        if not 1 <= limit <= most:
            raise invalid("limit", f"expected 1 <= limit <= {most}, got {limit}", limit)
        seed: Customer | Product
        if customer_id is not None:
            seed = await load_required(info, Customer, customer_id, "customerId")
        else:
            seed = await load_required(info, Product, product_id or "", "productId")
        return await services.read(
            neighbourhood,
            services.store,
            seed.LABEL,
            seed.id,
            depth,
            limit,
        )

    @strawberry.field(
        description="Any node by its Relay global id (role reader).", permission_classes=[IsReader]
    )
    async def node(self, info: Info[Context, None], id: relay.GlobalID) -> relay.Node | None:
        try:
            id.resolve_type(info)
        except GlobalIDValueError:
            raise invalid("id", "expected the global id of a node type", id.type_name) from None
        found = id.resolve_node(info)
        return await found if inspect.isawaitable(found) else found


__all__ = ["CustomerQuery", "GraphEdge", "GraphNode", "Neighbourhood", "ScoredCustomer"]
