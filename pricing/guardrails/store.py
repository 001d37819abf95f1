"""Guardrails changed at run time (the API's ``setGuardrails``), kept across restarts.

The saved file holds the whole :class:`~.config.GuardrailConfig` with who
changed it and when. When it exists it is in force instead of the guardrails of the
settings: a change made through the API is the later, explicit decision. Delete the
file to go back to the settings.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from .config import GuardrailConfig, guardrail_config_from

FORMAT_VERSION = 1


def save_guardrails(path: Path, guardrails: GuardrailConfig, changed_by: str) -> Path:
    """Write ``guardrails`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "format_version": FORMAT_VERSION,
        "changed_by": changed_by,
        "changed_at": datetime.now(UTC).isoformat(),
        "guardrails": guardrails.model_dump(mode="json"),
    }
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return path


def read_guardrails(path: Path) -> tuple[GuardrailConfig, dict[str, Any]] | None:
    """The saved guardrails and their record (``changed_by``, ``changed_at``), or ``None``.

    ``None`` only when nothing is at ``path``: something there that is not a readable
    file (a directory, say) is an error rather than silently quoting with the settings'
    guardrails, which may be looser than the ones an admin saved.

    Raises:
        ConfigError: Something is at ``path`` but it is not a file, cannot be read or
            holds invalid values; the message names the file (and the field).
    """
    path = Path(path)
    if not path.exists():
        return None
    if not path.is_file():
        found = "a directory" if path.is_dir() else "something that is not a regular file"
        raise ConfigError(
            f"{path}: saved guardrails (pricing.guardrails_path): expected a JSON file, "
            f"found {found}; remove it or set PRICEGRAPH_PRICING__GUARDRAILS_PATH"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        values = record["guardrails"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: cannot read saved guardrails: {exc}") from None
    if record.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"{path}: format_version {record.get('format_version')!r}; expected {FORMAT_VERSION}"
        )
    try:
        guardrails = guardrail_config_from(values)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return guardrails, {k: v for k, v in record.items() if k != "guardrails"}


__all__ = ["FORMAT_VERSION", "read_guardrails", "save_guardrails"]
