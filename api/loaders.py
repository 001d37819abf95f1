"""Per-request DataLoaders: one store read per kind of lookup, however many fields ask.

A list of 100 products with their brands costs three store calls: the page, the
``OF_BRAND`` targets of all 100 (one ``IN`` query), and the brand nodes (one
``get_nodes``). Loaders live for one request, so nothing stale is ever served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from ..plain import plain_value

if TYPE_CHECKING:
    from .services import Services

Row = dict[str, Any]

TARGETS = {
    "brand_of_product": "OF_BRAND",
    "category_of_product": "IN_CATEGORY",
    "parent_of_category": "CHILD_OF",
    "segment_of_customer": "IN_SEGMENT",
}
"""Named lookups -> the relationship type whose single target each source key has
(:meth:`~pricegraph.graph.base.GraphStore.edge_targets`; highest ``score`` wins)."""


def plain(value: Any) -> Any:
    """A store value as a plain Python value: NaN/NaT -> ``None``, times aware UTC
    (:func:`pricegraph.plain.plain_value`)."""
    return plain_value(value, times="aware_utc")


def plain_row(row: Row) -> Row:
    """:func:`plain` applied to every value of ``row``."""
    return {k: plain(v) for k, v in row.items()}


class Loaders:
    """The DataLoaders of one request.

    Attributes:
        nodes: Label -> loader of node properties by key (``None`` where missing).
        targets: Name of :data:`TARGETS` -> loader of the target key by source key.
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self.nodes: dict[str, DataLoader[str, Row | None]] = {}
        self.targets = {
            name: DataLoader(load_fn=self._target_loader(rel_type))
            for name, rel_type in TARGETS.items()
        }

    def node(self, label: str) -> DataLoader[str, Row | None]:
        """The loader of ``label`` nodes (created on first use)."""
        if label not in self.nodes:

            async def load(keys: Sequence[str]) -> list[Row | None]:
                services = self._services
                rows = await services.run(services.store.get_nodes, label, list(keys))
                return [plain_row(r) if r is not None else None for r in rows]

            self.nodes[label] = DataLoader(load_fn=load)
        return self.nodes[label]

    def prime(self, label: str, rows: Sequence[Row]) -> None:
        """Tell the ``label`` loader about rows a page query already read."""
        self.node(label).prime_many({str(r["id"]): r for r in rows})

    def _target_loader(self, rel_type: str) -> Any:
        async def load(keys: Sequence[str]) -> list[str | None]:
            services = self._services
            frame = await services.run(services.store.edge_targets, rel_type, list(keys))
            if frame.empty:
                return [None] * len(keys)
            frame = frame.sort_values(["source", "score", "target"], ascending=[True, False, True])
            best = frame.drop_duplicates("source").set_index("source")["target"]
            return [plain(best.get(key)) for key in keys]

        return load


__all__ = ["TARGETS", "Loaders", "plain", "plain_row"]
