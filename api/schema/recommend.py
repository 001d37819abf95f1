"""Recommendations from the trained graph encoder, each with its reason (role reader)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ...gnn.reasons import Recommendation as RecommendationModel
from ..context import Context
from ..errors import invalid, unavailable
from ..permissions import IsReader
from ..services import Services, encode_text
from .inputs import check_key
from .nodes import Product
from .pagination import page_size


@strawberry.type(description="A recommended product and why.")
class Recommendation:
    key: str = strawberry.field(description="The product's key.")
    rank: int = strawberry.field(description="1-based.")
    score: float = strawberry.field(description="Higher is better; meaning depends on the query.")
    reason: str = strawberry.field(description='e.g. "bought together by 14 customers".')
    reason_kind: str = strawberry.field(description="What the reason rests on.")
    via_product_id: str | None = strawberry.field(description="The product the reason cites.")

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product | None:
        return await Product.load(info, self.key)


def recommend(
    services: Services,
    customer_id: str | None,
    product_id: str | None,
    text: str | None,
    k: int,
    include_bought: bool,
) -> list[RecommendationModel]:
    """The recommender's picks (a read thread); UNAVAILABLE before ``train-gnn``."""
    recommender = services.recommender
    if recommender is None:
        raise unavailable(
            f"recommendations need a trained encoder: none at {services.config.encoder_path} "
            "(run 'pricegraph train-gnn')"
        )
    if customer_id is not None:
        return recommender.for_customer(customer_id, k, include_bought=include_bought)
    if product_id is not None:
        return recommender.for_product(product_id, k)
    return recommender.for_new_product(encode_text(services, text or ""), k)


@strawberry.type
class RecommendQuery:
    @strawberry.field(
        description=(
            "Products for `customerId`, bought with `productId`, or like a new product's "
            "`newProductText`: give exactly one. UNAVAILABLE before the encoder is trained."
        ),
        permission_classes=[IsReader],
    )
    async def recommendations(
        self,
        info: Info[Context, None],
        customer_id: str | None = None,
        product_id: str | None = None,
        new_product_text: str | None = None,
        first: int | None = None,
        include_bought: bool = False,
    ) -> list[Recommendation]:
        services = info.context.services
        k = page_size(first, services.config.limits)
        given = [x for x in (customer_id, product_id, new_product_text) if x is not None]
        if len(given) != 1:
            raise invalid("customerId", "give exactly one of customerId, productId, newProductText")
        if new_product_text is not None and not new_product_text.strip():
            raise invalid("newProductText", "expected a non-empty text", new_product_text)
        picks = await services.read(
            recommend,
            services,
            check_key(customer_id, "customerId") if customer_id is not None else None,
            check_key(product_id, "productId") if product_id is not None else None,
            new_product_text,
            k,
            include_bought,
        )
        return [
            Recommendation(
                key=p.product_id,
                rank=p.rank,
                score=float(p.score),
                reason=p.reason,
                reason_kind=str(p.reason_kind),
                via_product_id=p.via_product_id,
            )
            for p in picks
        ]


__all__ = ["RecommendQuery", "Recommendation", "recommend"]
