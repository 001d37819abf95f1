"""Settings of the graph store section (``PRICEGRAPH_GRAPH__*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator


class GraphConfig(BaseModel):
    """Which graph backend to use and how to reach it.

    Attributes:
        backend: ``embedded`` (LadybugDB in ``path``) or ``neo4j``.
        path: Folder of the embedded database; relative paths are resolved
            against the data directory by the root settings.
        buffer_pool_mb: LadybugDB buffer pool size in MiB.
        max_db_size_gb: Largest size the embedded database may grow to, in GiB
            (LadybugDB reserves this much virtual address space).
        neo4j_uri: ``neo4j://`` (routing, clusters) or ``bolt://`` URI.
        neo4j_user: Neo4j user name.
        neo4j_password: Neo4j password; never printed.
        neo4j_database: Neo4j database name.
        batch_size: Rows per ``UNWIND`` batch (Neo4j) or per ``COPY`` (embedded).
    """

    backend: Literal["embedded", "neo4j"] = "embedded"
    path: Path = Path("graph")
    buffer_pool_mb: int = Field(default=1024, ge=64)
    max_db_size_gb: int = Field(default=64, ge=1)
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"
    batch_size: int = Field(default=50_000, ge=1)

    @model_validator(mode="after")
    def _check_backend(self) -> GraphConfig:
        if self.backend == "neo4j" and not self.neo4j_uri:
            raise ValueError(
                "graph backend 'neo4j' needs a URI: set PRICEGRAPH_GRAPH__NEO4J_URI "
                "(e.g. neo4j://localhost:7687)"
            )
        return self


__all__ = ["GraphConfig"]
