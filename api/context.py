"""The per-request context: the services, who asks, and fresh DataLoaders."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from .config import ApiConfig, Role
from .errors import invalid
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
    items_done: int = 0
    """Quotes and written items this request has asked for so far (:meth:`spend`)."""

    def spend(self, count: int, field_name: str) -> None:
        """Count ``count`` quotes or written items against ``api.limits.max_request_items``
        as a field runs: a backstop, since :mod:`pricegraph.api.arguments` refuses a
        request over the limit before anything of it runs.

        Raises:
            ApiError: INVALID_INPUT naming ``field_name`` when the request would go over.
        """
        limit = self.services.config.limits.max_request_items
        if self.items_done + count > limit:
            raise invalid(
                field_name,
                f"this request asks for more than {limit} quotes or written items in all "
                "(fields and aliases together); split it",
                self.items_done + count,
            )
        self.items_done += count

    @property
    def may_file_approvals(self) -> bool:
        """Whether this request's quotes may file price changes for approval (pricing
        role and above; a reader's quote shows the current price instead)."""
        role = self.principal.role
        return role is not None and role >= Role.PRICING


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
