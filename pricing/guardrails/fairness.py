"""No protected attributes, and no known proxies of them, among personalization inputs.

Personalized prices must not depend on gender, age, ethnicity and the other attributes
protected by EU anti-discrimination law and GDPR Art. 9, nor on inputs that stand in
for them (postcode, first name, form of address). The check works on feature names,
before a model is trained or a price is quoted.

Names are compared word by word, ignoring case, separators and camelCase, so
``customer_gender``, ``age_years``, ``zipCode`` and ``DOB`` are caught while ``page_views``
and ``average_basket`` (which merely contain ``age``) are not. A listed name matches
when its words appear in a row in the feature name, or when it equals words of the
feature name written together (``zip_code`` matches ``zipcode``). Product features
such as ``product_title`` match the proxy ``title``; rename them or remove ``title``
from ``GuardrailConfig.proxy_attributes``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import GuardrailError
from ...protected import ProtectedInput, find_protected_names
from .config import GuardrailConfig


def find_protected_inputs(
    feature_names: Iterable[str], config: GuardrailConfig
) -> tuple[ProtectedInput, ...]:
    """Every feature name that matches a protected attribute or a proxy, in input order.

    A name matching several entries is reported once, for the first protected attribute
    it matches, else the first proxy.

    Args:
        feature_names: Names of the personalization inputs.
        config: Supplies ``protected_attributes`` and ``proxy_attributes``.
    """
    return find_protected_names(feature_names, config.protected_attributes, config.proxy_attributes)


def check_personalization_inputs(feature_names: Iterable[str], config: GuardrailConfig) -> None:
    """Refuse personalization inputs that contain protected attributes or proxies.

    Args:
        feature_names: Names of the inputs a personalized price may depend on.
        config: Supplies ``protected_attributes`` and ``proxy_attributes``.

    Raises:
        GuardrailError: Lists every offending feature with the attribute it matched,
            e.g. ``'customer_gender' (gender), 'zipCode' (proxy: zip_code)``.
    """
    found = find_protected_inputs(feature_names, config)
    if not found:
        return
    listed = ", ".join(
        f"{item.feature!r} ({'proxy: ' if item.is_proxy else ''}{item.attribute})" for item in found
    )
    raise GuardrailError(
        f"personalization inputs must not include protected attributes or their proxies; "
        f"found {len(found)}: {listed}"
    )


__all__ = ["ProtectedInput", "check_personalization_inputs", "find_protected_inputs"]
