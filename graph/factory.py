"""``make_graph_store``: the one place that picks a graph backend."""

from __future__ import annotations

from pathlib import Path

from .base import GraphStore
from .config import GraphConfig


def make_graph_store(config: GraphConfig, *, data_dir: Path | None = None) -> GraphStore:
    """Open the graph store ``config`` describes.

    Args:
        config: The graph section of the settings.
        data_dir: Base folder for a relative embedded ``path`` (default: cwd).

    Returns:
        An :class:`EmbeddedGraph` or a :class:`Neo4jGraph`, schema ensured.
    """
    if config.backend == "neo4j":
        from .neo4j_store import Neo4jGraph

        assert config.neo4j_uri is not None  # checked by GraphConfig
        return Neo4jGraph(
            config.neo4j_uri,
            user=config.neo4j_user,
            password=config.neo4j_password.get_secret_value(),
            database=config.neo4j_database,
            batch_size=config.batch_size,
        )
    from .ladybug_store import EmbeddedGraph

    path = config.path if config.path.is_absolute() or data_dir is None else data_dir / config.path
    return EmbeddedGraph(
        path,
        buffer_pool_mb=config.buffer_pool_mb,
        max_db_size_gb=config.max_db_size_gb,
        batch_size=max(config.batch_size, 100_000),
    )


__all__ = ["make_graph_store"]
