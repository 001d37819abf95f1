"""Settings of the loaders section (``PRICEGRAPH_LOADERS__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoaderConfig(BaseModel):
    """How loads write.

    Attributes:
        chunk_rows: Rows written per transaction. A load stopped half-way keeps
            whole chunks; smaller chunks lose less work, larger ones load faster.
    """

    chunk_rows: int = Field(default=1_000_000, ge=1)


__all__ = ["LoaderConfig"]
