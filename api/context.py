"""The per-request context: the services, who asks, and fresh DataLoaders."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from .config import ApiConfig, Role
from .loaders import Loaders
from .services import Services

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class Principal:
    """Who sends the request.

    Attributes:
        name: The key's name (``anonymous`` without a known key); recorded in the audit log.
        role: The key's role, ``None`` without a known key.
    """

    name: str = "anonymous"
    role: Role | None = None


def principal_of(api_key: str | None, config: ApiConfig) -> Principal:
    """The principal of an ``X-API-Key`` value (compared in constant time)."""
    if api_key:
        for key in config.keys:
            if hmac.compare_digest(key.key.get_secret_value().encode(), api_key.encode()):
                return Principal(key.name, key.level)
    return Principal()


@dataclass
class Context:
    """What resolvers get as ``info.context``.

    Attributes:
        services: The process's services.
        principal: Who asks.
        loaders: DataLoaders of this request only (no cache outlives a request).
        request: The HTTP request.
        response: The HTTP response (headers may be set on it).
    """

    services: Services
    principal: Principal
    loaders: Loaders
    request: Request | None = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def make_context(services: Services, request: Request | None, response: Any = None) -> Context:
    """A context for ``request``: its principal and new loaders."""
    header = request.headers.get(API_KEY_HEADER) if request is not None else None
    return Context(
        services=services,
        principal=principal_of(header, services.config),
        loaders=Loaders(services),
        request=request,
        response=response,
    )


__all__ = ["API_KEY_HEADER", "Context", "Principal", "make_context", "principal_of"]
