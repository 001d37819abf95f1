"""The root settings object: built once by an entry point and passed down.

Sources, strongest first: keyword arguments, environment variables
(``PRICEGRAPH_`` prefix, ``__`` for nesting: ``PRICEGRAPH_GRAPH__BACKEND=neo4j``),
a ``.env`` file, a TOML file (``PRICEGRAPH_CONFIG`` or ``./pricegraph.toml``),
then the defaults. Secrets are ``SecretStr``: printed as ``**********``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ..embeddings.config import EmbeddingConfig, VectorConfig
from ..errors import ConfigError
from ..graph.config import GraphConfig
from ..loaders.config import LoaderConfig
from ..pricing.config import PricingConfig
from .config import ApiConfig


def _toml_file() -> Path:
    return Path(os.environ.get("PRICEGRAPH_CONFIG", "pricegraph.toml"))


class Settings(BaseSettings):
    """Every setting of Pricegraph.

    Attributes:
        data_dir: Base folder of embedded stores, generated data, rejects and
            model artefacts (default ``./var``).
        graph: The graph store section.
        vectors: The vector store section.
        embeddings: The text encoder section.
        loaders: How loads write.
        pricing: Guardrails, the audit log and the pricing policy.
        api: The GraphQL server: keys and roles, limits, GraphiQL.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        seed: Default seed of generators and training.
    """

    model_config = SettingsConfigDict(
        env_prefix="PRICEGRAPH_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Path("var")
    graph: GraphConfig = Field(default_factory=GraphConfig)
    vectors: VectorConfig = Field(default_factory=VectorConfig)
    embeddings: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    loaders: LoaderConfig = Field(default_factory=LoaderConfig)
    pricing: PricingConfig = Field(default_factory=PricingConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 7

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_file())
        return init_settings, env_settings, dotenv_settings, toml, file_secret_settings

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        if not self.graph.path.is_absolute():
            self.graph.path = self.data_dir / self.graph.path
        if not self.vectors.path.is_absolute():
            self.vectors.path = self.data_dir / self.vectors.path
        self.pricing = self.pricing.resolved(self.data_dir)
        if self.embeddings.device == "auto":
            self.embeddings.device = self.device
        return self

    def describe(self) -> dict[str, Any]:
        """The settings as plain values, secrets masked (for ``pricegraph config``)."""
        return self.model_dump(mode="json")


def load_settings() -> Settings:
    """Settings from the environment and config file; a bad value is a ``ConfigError``.

    The one entry point of the CLI's commands and of the server's worker processes.

    Raises:
        ConfigError: Naming every invalid setting (dotted path) with pydantic's message.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


__all__ = ["Settings", "load_settings"]
