"""Settings of the pricing section (``PRICEGRAPH_PRICING__*``): guardrails, audit, policy.

Percentages are in percent, money gross in the shop currency, durations in days.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from .guardrails.config import GuardrailConfig

if TYPE_CHECKING:
    from .guardrails.store import GuardrailStore

DEFAULT_POLICY_DIR = Path("models/pricing")
"""Where ``pricegraph train-pricing`` writes policy checkpoints, under the data directory."""


class PricingConfig(BaseModel):
    """How quotes are made, guarded and recorded.

    Attributes:
        guardrails: The hard guardrails every quoted price satisfies
            (``PRICEGRAPH_PRICING__GUARDRAILS__MIN_MARGIN_PCT=12``).
        audit_path: SQLite file of the quote audit log and the approval queue;
            a relative path is resolved against the data directory
            (default ``audit/quotes.sqlite``). Unused with :attr:`database_url`.
        database_url: A PostgreSQL server for the audit log, the approval queue and
            the saved guardrails instead of the SQLite file and the JSON file
            (``PRICEGRAPH_PRICING__DATABASE_URL=postgresql://user:password@host/db``);
            what several API replicas need to share them
            (:mod:`~pricegraph.pricing.records`).
        policy_path: Checkpoint folder of the trained hierarchical policy; relative
            paths are resolved against the data directory. ``None``: the newest one
            ``pricegraph train-pricing`` wrote (``<data_dir>/models/pricing/latest``)
            when there is one, else quote at list price
            (:class:`~pricegraph.pricing.policy.ListPricePolicy`).
        guardrails_path: Where the API's ``setGuardrails`` saves the guardrails it
            sets (default ``pricing/guardrails.json`` in the data directory); when
            the file exists its guardrails are in force instead of ``guardrails``
            (:mod:`~pricegraph.pricing.guardrails.store`). With :attr:`database_url`
            they are saved in the database instead.
        period_days: Length of a pricing period in days, in ``[1, 366]``, for a
            policy without a season calendar (list price, or a policy trained on a
            market without dates): the quote state's ``period`` is then ``(day of
            year - 1) // period_days``; a trained policy counts periods from its
            season's first day (:class:`~pricegraph.pricing.policy.Season`).
        default_cost_ratio: Unit cost as a fraction of the list price, in ``(0, 1]``,
            for products without a cost; the rationale then says the cost was estimated.
        holiday_country: Whose public holidays the demand calendar flags: ``GB``
            (default, England and Wales), ``none``, or any ISO 3166 code the
            ``holidays`` package knows, e.g. ``US``, ``DE``, ``FR``
            (:mod:`~pricegraph.pricing.demand.holidays`).
    """

    model_config = ConfigDict(extra="forbid")

    guardrails: GuardrailConfig = Field(default_factory=GuardrailConfig)
    audit_path: Path = Path("audit/quotes.sqlite")
    database_url: SecretStr | None = None
    policy_path: Path | None = None
    guardrails_path: Path = Path("pricing/guardrails.json")
    period_days: int = Field(default=7, ge=1, le=366)
    default_cost_ratio: float = Field(default=0.6, gt=0, le=1)
    holiday_country: str = "GB"

    @field_validator("database_url")
    @classmethod
    def _server_url(cls, value: SecretStr | None) -> SecretStr | None:
        from .records import URL_SCHEMES

        if value is not None and not value.get_secret_value().startswith(URL_SCHEMES):
            raise ValueError("expected a postgresql:// URL (unset it to use the SQLite file)")
        return value

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        from .demand.holidays import check_country

        return check_country(value)

    _default_policy_path: Path | None = PrivateAttr(default=None)

    @property
    def default_policy_path(self) -> Path | None:
        """Where :meth:`resolved` looked for a trained policy when ``policy_path`` was
        unset (``<data_dir>/models/pricing/latest``); ``None`` before resolving.

        Kept so that the warning about quoting at list price can name the folder.
        """
        return self._default_policy_path

    def resolved(self, data_dir: Path) -> PricingConfig:
        """A copy whose relative paths are resolved against ``data_dir`` (no disk access)."""
        changes: dict[str, Path] = {}
        for name in ("audit_path", "guardrails_path"):
            if not getattr(self, name).is_absolute():
                changes[name] = data_dir / getattr(self, name)
        if self.policy_path is not None and not self.policy_path.is_absolute():
            changes["policy_path"] = data_dir / self.policy_path
        copy = self.model_copy(update=changes)
        copy._default_policy_path = data_dir / DEFAULT_POLICY_DIR / "latest"
        return copy

    def policy_folder(self) -> Path | None:
        """The checkpoint folder quotes load: ``policy_path`` when set, else the newest
        one ``train-pricing`` wrote (:attr:`default_policy_path`) when it holds a
        ``manifest.json`` (looked up now, on disk), else ``None`` (list price)."""
        if self.policy_path is not None:
            return self.policy_path
        latest = self._default_policy_path
        if latest is not None and (latest / "manifest.json").is_file():
            return latest
        return None

    def records_target(self) -> str | Path:
        """Where the audit log and the approval queue live: :attr:`database_url` when
        set, else :attr:`audit_path`."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.audit_path

    def guardrail_store(self) -> GuardrailStore:
        """The store of the guardrails ``setGuardrails`` saves: the records database's
        table with :attr:`database_url`, else the file at :attr:`guardrails_path`; the
        caller closes it."""
        from .guardrails.store import open_guardrail_store

        url = None if self.database_url is None else self.database_url.get_secret_value()
        return open_guardrail_store(self.guardrails_path, url)

    def with_saved_guardrails(self, store: GuardrailStore | None = None) -> PricingConfig:
        """A copy with the guardrails saved by the API's ``setGuardrails`` in force, when
        some are saved.

        Args:
            store: Where they are saved (default: :meth:`guardrail_store`, opened and
                closed here).

        Raises:
            ConfigError: What is saved is unreadable or invalid (names the file or the
                database, and the field).
        """
        if store is None:
            own = self.guardrail_store()
            try:
                return self.with_saved_guardrails(own)
            finally:
                own.close()
        saved = store.read()
        return self if saved is None else self.model_copy(update={"guardrails": saved[0]})


__all__ = ["DEFAULT_POLICY_DIR", "PricingConfig"]
