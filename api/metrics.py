"""Prometheus metrics of one app: HTTP requests, latency, and GraphQL errors by code.

Each app gets its own registry, so several apps in one process (tests) never clash.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ApiMetrics:
    """The counters and histograms of one app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pricegraph_http_requests",
            "HTTP requests by path, method and status.",
            ["path", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pricegraph_http_request_seconds",
            "HTTP request latency in seconds, by path.",
            ["path"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.errors = Counter(
            "pricegraph_graphql_errors",
            "GraphQL errors sent, by extensions.code.",
            ["code"],
            registry=self.registry,
        )

    def count_error(self, code: str) -> None:
        """Count one GraphQL error of ``code``."""
        self.errors.labels(code=code).inc()

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics`` in the Prometheus text format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """ASGI middleware timing and counting every HTTP request of known paths."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, paths: frozenset[str]) -> None:
        self.app, self.metrics, self.paths = app, metrics, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in self.paths else "other"
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.latency.labels(path=path).observe(time.perf_counter() - start)
            self.metrics.requests.labels(
                path=path, method=scope["method"], status=str(status)
            ).inc()


__all__ = ["ApiMetrics", "MetricsMiddleware"]
