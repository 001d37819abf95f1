"""Guardrails changed at run time (the API's ``setGuardrails``), kept across restarts.

A saved change holds the whole :class:`~.config.GuardrailConfig` with who changed it
and when. When one is saved it is in force instead of the guardrails of the settings:
a change made through the API is the later, explicit decision. Two stores, one
interface (:class:`GuardrailStore`, opened by :func:`open_guardrail_store`):

* :class:`GuardrailFile` (default): a JSON file in the data directory
  (``pricing.guardrails_path``), replaced atomically. Delete the file to go back to
  the settings.
* :class:`GuardrailTable`: with a records database server
  (``PRICEGRAPH_PRICING__DATABASE_URL``), an append-only table of every change, the
  newest in force, shared by every API replica (:mod:`~pricegraph.pricing.records`).

Each store has a :meth:`~GuardrailStore.version` that changes with every save, so a
process that quotes checks it before each request and picks up a change made by
another worker or replica (``api.services``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ...errors import ConfigError, RecordsError
from ..records import Schema, append_only, open_records, schema
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


Saved = tuple[GuardrailConfig, dict[str, Any]]
"""The saved guardrails and their record (``changed_by``, ``changed_at``, ...)."""


class GuardrailStore(Protocol):
    """Where ``setGuardrails`` keeps guardrails (module docstring)."""

    where: str
    """The file, or the database without its password, for messages."""

    def read(self) -> Saved | None:
        """The guardrails in force by a saved change, or ``None`` when none is saved.

        Raises:
            ConfigError: What is saved cannot be read (names the store and the field).
        """
        ...

    def save(self, guardrails: GuardrailConfig, changed_by: str) -> None:
        """Save ``guardrails`` as the ones in force from now on."""
        ...

    def history(self, limit: int) -> list[Saved]:
        """The saved changes, newest first, at most ``limit`` (the file keeps only the
        last one; the table every one).

        Raises:
            ConfigError: A change cannot be read (names the store and the field).
        """
        ...

    def version(self) -> object:
        """A value that changes with every save (``None`` when nothing is saved)."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


class GuardrailFile:
    """Saved guardrails in one JSON file (:func:`save_guardrails`, :func:`read_guardrails`).

    Args:
        path: The file (``pricing.guardrails_path``).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def read(self) -> Saved | None:
        """See :meth:`GuardrailStore.read`."""
        return read_guardrails(self.path)

    def save(self, guardrails: GuardrailConfig, changed_by: str) -> None:
        """See :meth:`GuardrailStore.save` (atomic replace)."""
        save_guardrails(self.path, guardrails, changed_by)

    def history(self, limit: int) -> list[Saved]:
        """See :meth:`GuardrailStore.history`: the one saved change, or none."""
        saved = self.read()
        return [] if saved is None or limit < 1 else [saved]

    def version(self) -> object:
        """The file's bytes (about 1 kB; every save writes another ``changed_at``).

        Not its ``stat``: a replaced file may get the freed inode back, and two saves
        within the file system's clock tick may share a modification time.
        """
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def close(self) -> None:
        """Nothing to release."""


_SCHEMA: Schema = schema(
    """
CREATE TABLE IF NOT EXISTS guardrail_changes (
    seq {serial},
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    format_version INTEGER NOT NULL,
    guardrails TEXT NOT NULL
);
""",
    append_only("guardrail_changes"),
)


class GuardrailTable:
    """Saved guardrails as an append-only table of changes in the records database;
    the newest row is in force, the others are the history of who changed what when.

    Args:
        target: The records database (a ``postgresql://`` URL, or a SQLite file).

    Raises:
        RecordsError: The database cannot be opened or its table created.
    """

    def __init__(self, target: str | Path) -> None:
        self.database = open_records(target, _SCHEMA, "saved guardrails")
        self.where = f"{self.database.where} (table guardrail_changes)"

    def read(self) -> Saved | None:
        """See :meth:`GuardrailStore.read`."""
        newest = self.history(1)
        return newest[0] if newest else None

    def history(self, limit: int) -> list[Saved]:
        """See :meth:`GuardrailStore.history` (``change`` in each record: its number)."""
        rows = self._fetch(
            "SELECT seq, changed_at, changed_by, format_version, guardrails "
            "FROM guardrail_changes ORDER BY seq DESC LIMIT ?",
            [max(int(limit), 0)],
        )
        return [self._saved(row) for row in rows]

    def _saved(self, row: tuple[Any, ...]) -> Saved:
        seq, changed_at, changed_by, version, values = row
        where = f"saved guardrails {self.where}, change {seq}"
        if version != FORMAT_VERSION:
            raise ConfigError(f"{where}: format_version {version!r}; expected {FORMAT_VERSION}")
        try:
            guardrails = guardrail_config_from(json.loads(values))
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
        record = {
            "format_version": version,
            "changed_by": changed_by,
            "changed_at": changed_at,
            "change": seq,
        }
        return guardrails, record

    def save(self, guardrails: GuardrailConfig, changed_by: str) -> None:
        """See :meth:`GuardrailStore.save` (one appended row)."""
        values = json.dumps(guardrails.model_dump(mode="json"), sort_keys=True)
        try:
            self.database.execute(
                "INSERT INTO guardrail_changes (changed_at, changed_by, format_version, "
                "guardrails) VALUES (?, ?, ?, ?)",
                (datetime.now(UTC).isoformat(), changed_by, FORMAT_VERSION, values),
            )
        except self.database.errors as exc:
            raise RecordsError(f"saved guardrails {self.where}: cannot save: {exc}") from exc

    def copy_from(self, source: GuardrailStore) -> bool:
        """Save the guardrails saved in ``source`` (e.g. the JSON file a single host
        kept) as the newest change, with who changed them and when, unless they are the
        ones in force here already.

        Returns:
            Whether a change was added (``False``: nothing saved in ``source``, or the
            same guardrails in force here).
        """
        saved = source.read()
        if saved is None:
            return False
        guardrails, record = saved
        current = self.read()
        if current is not None and current[0] == guardrails:
            return False
        values = json.dumps(guardrails.model_dump(mode="json"), sort_keys=True)
        changed_at = str(record.get("changed_at") or datetime.now(UTC).isoformat())
        changed_by = str(record.get("changed_by") or "unknown")
        try:
            self.database.execute(
                "INSERT INTO guardrail_changes (changed_at, changed_by, format_version, "
                "guardrails) VALUES (?, ?, ?, ?)",
                (changed_at, changed_by, FORMAT_VERSION, values),
            )
        except self.database.errors as exc:
            raise RecordsError(f"saved guardrails {self.where}: cannot copy: {exc}") from exc
        return True

    def version(self) -> object:
        """The newest change's number (``None``: no change saved)."""
        return self._fetch("SELECT MAX(seq) FROM guardrail_changes")[0][0]

    def close(self) -> None:
        """Close the database connections."""
        self.database.close()

    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.database.fetch(query, params)
        except self.database.errors as exc:
            raise RecordsError(f"saved guardrails {self.where}: {exc}") from exc


def open_guardrail_store(path: Path, database_url: str | None) -> GuardrailStore:
    """The table of the records database server when ``database_url`` is set, else the
    file at ``path``; the caller closes it."""
    return GuardrailFile(path) if database_url is None else GuardrailTable(database_url)


__all__ = [
    "FORMAT_VERSION",
    "GuardrailFile",
    "GuardrailStore",
    "GuardrailTable",
    "Saved",
    "open_guardrail_store",
    "read_guardrails",
    "save_guardrails",
]
