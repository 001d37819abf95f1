"""Settings of the GraphQL API section (``PRICEGRAPH_API__*``): binding, keys, limits.

API keys are secrets: each one maps to a named principal and a role. The name, never
the key, is what the audit log records as ``requested_by``.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Role(IntEnum):
    """Roles in increasing power: each one may do what the ones below it may."""

    READER = 1
    PRICING = 2
    ADMIN = 3


class ApiKey(BaseModel):
    """One API key.

    Attributes:
        name: Who holds the key (recorded in the audit log), e.g. ``pricing-desk``.
        key: The secret sent in the ``X-API-Key`` header; never printed.
        role: ``reader``, ``pricing`` or ``admin``.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    key: SecretStr
    role: Literal["reader", "pricing", "admin"] = "reader"

    @property
    def level(self) -> Role:
        """The role as a comparable :class:`Role`."""
        return Role[self.role.upper()]


class ApiLimits(BaseModel):
    """What one request may ask for; bigger requests get a GraphQL error, never a 500.

    Attributes:
        max_depth: Deepest selection nesting, in ``[2, 50]``.
        max_tokens: Most lexer tokens in a query document.
        max_aliases: Most aliased fields in a document.
        max_cost: Most estimated field resolutions: each field costs the product of the
            ``first`` / ``limit`` arguments above it (a variable counts as ``max_page_size``).
        max_page_size: Largest ``first`` of a list or connection.
        default_page_size: ``first`` when a request gives none.
        max_batch_size: Most items of a batch query or mutation (prices, events, ...).
        max_request_items: Most quotes and written items of one request, over all its
            fields and aliases (a 20-alias batch of 500 pairs is refused, not 10,000
            quotes); at least ``max_batch_size``.
    """

    model_config = ConfigDict(frozen=True)

    max_depth: int = Field(default=10, ge=2, le=50)
    max_tokens: int = Field(default=2_000, ge=50)
    max_aliases: int = Field(default=20, ge=0)
    max_cost: int = Field(default=5_000, ge=10)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    default_page_size: int = Field(default=20, ge=1)
    max_batch_size: int = Field(default=500, ge=1)
    max_request_items: int = Field(default=1_000, ge=1)

    @model_validator(mode="after")
    def _check_page_sizes(self) -> ApiLimits:
        if self.max_request_items < self.max_batch_size:
            raise ValueError(
                f"api.limits.max_request_items ({self.max_request_items}) must be >= "
                f"api.limits.max_batch_size ({self.max_batch_size})"
            )
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"api.limits.default_page_size ({self.default_page_size}) must be <= "
                f"api.limits.max_page_size ({self.max_page_size})"
            )
        return self


class ApiConfig(BaseModel):
    """How the GraphQL server runs.

    Attributes:
        host: Interface to bind, e.g. ``0.0.0.0`` in a container (default ``127.0.0.1``).
        port: TCP port (default ``8000``).
        workers: uvicorn worker processes; more than one needs Neo4j and a Qdrant URL
            (the embedded stores belong to one process).
        environment: ``dev`` or ``prod``; ``prod`` refuses GraphiQL and needs API keys.
        keys: The API keys (JSON list in ``PRICEGRAPH_API__KEYS``).
        limits: Query limits.
        is_graphiql_enabled: Serve the GraphiQL IDE at ``/graphql`` (default off).
        encoder_path: Encoder checkpoint for recommendations; relative to the data
            directory (default ``models/encoder/latest.pt``; missing there:
            recommendations answer UNAVAILABLE, with a warning at start; missing at a
            configured path: an error at start).
        demand_path: Demand model JSON for what-if (default ``models/demand.json``;
            missing there: what-if answers UNAVAILABLE, with a warning at start;
            missing at a configured path: an error at start).
        max_body_bytes: Largest request body, checked before it is parsed (default
            16 MiB: 500 products whose description and attributes are at their
            10,000-character maximum, in ASCII, take about 10 MiB); a larger one is
            answered 413 (e.g. 1,000 such products in one request, or such texts in
            scripts that take several bytes a character): send fewer items per request,
            or raise it.
    """

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    environment: Literal["dev", "prod"] = "dev"
    keys: tuple[ApiKey, ...] = ()
    limits: ApiLimits = Field(default_factory=ApiLimits)
    is_graphiql_enabled: bool = False
    encoder_path: Path = Path("models/encoder/latest.pt")
    demand_path: Path = Path("models/demand.json")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _check(self) -> ApiConfig:
        names = [k.name for k in self.keys]
        if len(set(names)) != len(names):
            raise ValueError(f"api.keys: names must be unique, got {names}")
        secrets = [k.key.get_secret_value() for k in self.keys]
        if len(set(secrets)) != len(secrets):
            raise ValueError("api.keys: two keys have the same secret")
        if self.environment == "prod":
            if self.is_graphiql_enabled:
                raise ValueError(
                    "api.is_graphiql_enabled: GraphiQL is refused when api.environment is "
                    "'prod' (set PRICEGRAPH_API__IS_GRAPHIQL_ENABLED=false)"
                )
            if not self.keys:
                raise ValueError("api.keys: production needs at least one API key")
            short = [k.name for k in self.keys if len(k.key.get_secret_value()) < 24]
            if short:
                raise ValueError(f"api.keys: keys of {short} are shorter than 24 characters")
        return self

    def resolved(self, data_dir: Path) -> ApiConfig:
        """A copy whose relative model paths are resolved against ``data_dir``.

        The copy keeps :attr:`model_fields_set` as it was, so that a default path stays
        a default (absent: a warning) and a configured one stays configured (absent:
        an error) after resolving; see :mod:`pricegraph.api.model_files`.
        """
        changes = {
            name: data_dir / path
            for name, path in (
                ("encoder_path", self.encoder_path),
                ("demand_path", self.demand_path),
            )
            if not path.is_absolute()
        }
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return self.model_construct(_fields_set=set(self.model_fields_set), **values | changes)


__all__ = ["ApiConfig", "ApiKey", "ApiLimits", "Role"]
