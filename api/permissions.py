"""Who may use which field: roles ``reader`` < ``pricing`` < ``admin``.

The role comes from the ``X-API-Key`` header (see :mod:`.context`); a request
without a known key has no role and sees only the public catalog fields.

Customer data: a reader sees customers, their purchases and profile texts; only an
admin sees ``Customer.attributes``, the attributes a retailer loaded, because they may
hold demographics (age, income, marital status, household make-up;
:mod:`pricegraph.protected`). The pricing role does not get them: personalized prices
must not depend on them, and a field the pricing team cannot read cannot creep into
its inputs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from .config import Role
from .errors import ErrorCode


class _HasRole(BasePermission):
    """Grants the field to principals whose role is at least :attr:`required`."""

    required: ClassVar[Role]
    error_extensions: ClassVar[dict[str, object]] = {"code": ErrorCode.FORBIDDEN.value}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        role = cls.required.name.lower()
        cls.message = (
            f"this field needs the role '{role}' or higher: send an X-API-Key header "
            f"with a key of that role"
        )

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """Whether the request's principal holds the role."""
        role = info.context.principal.role
        return role is not None and role >= self.required


class IsReader(_HasRole):
    """Any known API key."""

    required = Role.READER


class IsPricing(_HasRole):
    """Keys of the pricing team or admins."""

    required = Role.PRICING


class IsAdmin(_HasRole):
    """Admin keys."""

    required = Role.ADMIN


__all__ = ["IsAdmin", "IsPricing", "IsReader"]
