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
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from .config import ApiConfig, Role
from .context import API_KEY_HEADER, Context, make_context, principal_of
from .errors import coded, mask_error
from .metrics import ApiMetrics, MetricsMiddleware
from .schema import build_schema
from .services import Services, api_section, open_services
from .settings import Settings, load_settings

logger = logging.getLogger("pricegraph.api")

PATHS = frozenset({"/graphql", "/healthz", "/livez", "/metrics"})
HEALTH_TIMEOUT_S = 5.0
"""How long ``/healthz`` waits for each cheap read (graph store, records database)."""
MAX_QUERY_STRING_BYTES = 32 * 1024
"""Longest query string (a GET query with its variables); longer: 414."""


def error_response(status: int, message: str, **facts: Any) -> JSONResponse:
    """A request-level GraphQL error (no ``data``): ``{"errors": [{"message", "extensions":
    {"code": "INVALID_INPUT", ...}}]}`` with HTTP ``status``."""
    extensions = {"code": "INVALID_INPUT", **facts}
    return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, status)


class RequestSizeLimit:
    """ASGI middleware bounding a request before the app reads it: a query string over
    ``max_query_bytes`` is answered 414, a body over ``max_body_bytes`` 413, by its
    ``Content-Length`` or by the bytes as they arrive (the body is read here, up to the
    limit, and handed to the app whole).

    Args:
        app: The app.
        max_body_bytes: Largest body (``api.max_body_bytes``).
        max_query_bytes: Longest query string (:data:`MAX_QUERY_STRING_BYTES`).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_query_bytes: int) -> None:
        self.app, self.max_body_bytes, self.max_query_bytes = app, max_body_bytes, max_query_bytes

    def _too_large(self) -> JSONResponse:
        return error_response(
            413,
            f"Request body: larger than {self.max_body_bytes:,} bytes "
            "(PRICEGRAPH_API__MAX_BODY_BYTES): send fewer items per request, or raise it",
            limit=self.max_body_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            response = error_response(
                414,
                f"Query string: longer than {self.max_query_bytes} bytes; send the query "
                "as a POST body",
                limit=self.max_query_bytes,
            )
            await response(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._too_large()(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body: list[Message] = [{"type": "http.request", "body": b"".join(chunks)}]

        async def replay() -> Message:
            return body.pop() if body else await receive()

        await self.app(scope, replay, send)


class PricegraphGraphQL(GraphQL):
    """strawberry's ASGI app with our per-request context."""

    def __init__(self, holder: dict[str, Services], metrics: ApiMetrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._holder = holder
        self._metrics = metrics

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """strawberry's view, with the requests it refuses answered as JSON GraphQL
        errors (strawberry answers plain text)."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            return error_response(exc.status_code, exc.reason)

    def decode_json(self, data: str | bytes) -> object:
        """A request body as JSON: a 400, never a 500, for bytes that are not UTF-8, JSON
        nested too deeply to parse, and JSON that is not an object (or a batch list)."""
        value = _json_of(data, "Request body")
        if not isinstance(value, dict | list):
            raise HTTPException(400, "Request body: expected a JSON object")
        return value

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """A GET request's parameters; ``variables`` and ``extensions`` as JSON (``null``
        allowed; strawberry checks they are objects)."""
        parsed = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = _json_of(parsed[name], f"Query parameter {name!r}")
        return parsed

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        return make_context(self._holder["services"], request, response)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Code every error (parse errors skip the extensions) and count the codes."""
        if result.errors:
            result.errors = [coded(error, mask_error) for error in result.errors]
            for error in result.errors:
                self._metrics.count_error(str((error.extensions or {}).get("code")))
        return await super().process_result(request, result)


def _json_of(data: str | bytes, where: str) -> Any:
    """``data`` parsed as JSON; HTTP 400 naming ``where`` when it is not."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text)
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"{where}: expected UTF-8 encoded JSON") from exc
    except RecursionError as exc:
        raise HTTPException(400, f"{where}: the JSON is nested too deeply") from exc
    except ValueError as exc:
        raise HTTPException(400, f"{where}: expected JSON ({exc.args[0][:80]})") from exc


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
        """``{"status": "ok", "store": "ok", "records": "ok", "models": {...}}`` (see
        :attr:`Services.models`) when the graph store answers a cheap read (its counts)
        and the records database one row of the audit log, each within
        :data:`HEALTH_TIMEOUT_S`; else 503 with ``status`` ``unavailable`` (a read
        failed) or ``busy`` (no answer in time), and 503 ``starting`` before the services
        are open. A probe sees whether the process can serve, and with which models."""
        if "services" not in holder:
            return JSONResponse({"status": "starting"}, 503)
        services = holder["services"]
        body = {"status": "ok"}
        for part, check in (("store", services.store.counts), ("records", services.audit.check)):
            try:
                await asyncio.wait_for(services.read(check), HEALTH_TIMEOUT_S)
            except TimeoutError:
                body |= {"status": "busy", part: f"no answer within {HEALTH_TIMEOUT_S:g} s"}
                return JSONResponse({**body, "models": services.models}, 503)
            except Exception as exc:  # the failure, named by type only (no paths)
                logger.warning("healthz: the %s failed a read (%s)", part, type(exc).__name__)
                body |= {"status": "unavailable", part: type(exc).__name__}
                return JSONResponse({**body, "models": services.models}, 503)
            body[part] = "ok"
        return JSONResponse({**body, "models": services.models})

    async def livez(request: Request) -> Response:
        """``{"status": "ok"}`` while the event loop answers, whatever the stores do: the
        liveness probe (a restart cannot mend a server that is down; ``/healthz`` is the
        readiness probe)."""
        return JSONResponse({"status": "ok"})

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
            Route("/livez", livez, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics, paths=PATHS),
            Middleware(
                RequestSizeLimit,
                max_body_bytes=config.max_body_bytes,
                max_query_bytes=MAX_QUERY_STRING_BYTES,
            ),
        ],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """An app from the environment's settings (the uvicorn factory of several workers)."""
    return create_app(load_settings())


__all__ = [
    "MAX_QUERY_STRING_BYTES",
    "PricegraphGraphQL",
    "RequestSizeLimit",
    "app_from_environment",
    "create_app",
    "error_response",
]
