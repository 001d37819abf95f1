"""``create_app``: the Starlette app serving GraphQL at ``/graphql``, ``/healthz`` (with
the models in force) and ``/metrics``.

The services (stores, models) open when the app starts and close when it stops; a
test may pass its own :class:`~pricegraph.api.services.Services` instead, which the
app then neither opens nor closes. GraphiQL is served only when enabled.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from .config import ApiConfig, Role
from .context import API_KEY_HEADER, Context, make_context, principal_of
from .errors import coded, mask_error
from .metrics import ApiMetrics, MetricsMiddleware
from .schema import build_schema
from .services import Services, api_section, open_services
from .settings import Settings, load_settings

logger = logging.getLogger("pricegraph.api")

PATHS = frozenset({"/graphql", "/healthz", "/metrics"})
HEALTH_TIMEOUT_S = 5.0
"""How long ``/healthz`` waits for the graph store's cheap read."""


class PricegraphGraphQL(GraphQL):
    """strawberry's ASGI app with our per-request context."""

    def __init__(self, holder: dict[str, Services], metrics: ApiMetrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._holder = holder
        self._metrics = metrics

    def decode_json(self, data: str | bytes) -> object:
        """A request body (or GET ``variables``) as JSON: a 400, never a 500, for bytes
        that are not UTF-8 and for JSON that is not an object (or a batch list)."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "Request body: expected UTF-8 encoded JSON") from exc
        value = json.loads(text)
        if not isinstance(value, dict | list):
            raise HTTPException(400, "Request body: expected a JSON object")
        return value

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        return make_context(self._holder["services"], request, response)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Code every error (parse errors skip the extensions) and count the codes."""
        if result.errors:
            result.errors = [coded(error, mask_error) for error in result.errors]
            for error in result.errors:
                self._metrics.count_error(str((error.extensions or {}).get("code")))
        return await super().process_result(request, result)


def create_app(
    settings: Settings,
    *,
    config: ApiConfig | None = None,
    services: Services | None = None,
) -> Starlette:
    """The API app.

    Args:
        settings: The root settings.
        config: The API section (default: ``settings``' own).
        services: Already opened services to serve from (tests, benchmarks); default:
            opened at startup from ``settings`` and closed at shutdown.
    """
    config = config or (services.config if services is not None else api_section(settings))
    metrics = ApiMetrics()
    holder: dict[str, Services] = {}
    if services is not None:
        holder["services"] = services
    graphql = PricegraphGraphQL(
        holder,
        metrics,
        schema=build_schema(config.limits, is_introspection_enabled=config.environment != "prod"),
        graphql_ide="graphiql" if config.is_graphiql_enabled else None,
    )

    async def healthz(request: Request) -> Response:
        """``{"status": "ok", "store": "ok", "models": {...}}`` (see :attr:`Services.models`)
        when the graph store answers a cheap read (its counts) within
        :data:`HEALTH_TIMEOUT_S`; else 503 with ``status`` ``unavailable`` (the read
        failed) or ``busy`` (no answer in time), and 503 ``starting`` before the services
        are open. A probe sees whether the process can serve, and with which models."""
        if "services" not in holder:
            return JSONResponse({"status": "starting"}, 503)
        services = holder["services"]
        try:
            await asyncio.wait_for(services.read(services.store.counts), HEALTH_TIMEOUT_S)
        except TimeoutError:
            body = {"status": "busy", "store": f"no answer within {HEALTH_TIMEOUT_S:g} s"}
            return JSONResponse({**body, "models": services.models}, 503)
        except Exception as exc:  # the store's failure, named by type only (no paths)
            logger.warning("healthz: the graph store failed a read (%s)", type(exc).__name__)
            body = {"status": "unavailable", "store": type(exc).__name__}
            return JSONResponse({**body, "models": services.models}, 503)
        return JSONResponse({"status": "ok", "store": "ok", "models": services.models})

    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus metrics; with ``api.environment=prod`` only for an admin key
        (``X-API-Key``), so traffic figures are not public."""
        if config.environment == "prod":
            principal = principal_of(request.headers.get(API_KEY_HEADER), config)
            if principal.role is None or principal.role < Role.ADMIN:
                return JSONResponse({"error": "an admin API key is required"}, 403)
        return await metrics.endpoint(request)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = services is None
        if owned:
            holder["services"] = open_services(settings, config)
        try:
            yield
        finally:
            if owned:
                holder.pop("services").close()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        middleware=[Middleware(MetricsMiddleware, metrics=metrics, paths=PATHS)],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """An app from the environment's settings (the uvicorn factory of several workers)."""
    return create_app(load_settings())


__all__ = ["PricegraphGraphQL", "app_from_environment", "create_app"]
