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

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import GuardrailError
from .guardrail_config import GuardrailConfig

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True)
class ProtectedInput:
    """A feature name that matched a protected attribute or a proxy."""

    feature: str
    """The feature name as given."""
    attribute: str
    """The listed attribute it matched."""
    is_proxy: bool
    """Whether the attribute is a proxy rather than a protected attribute itself."""


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
    listed = [(name, False) for name in config.protected_attributes] + [
        (name, True) for name in config.proxy_attributes
    ]
    patterns = [(name, is_proxy, _words(name)) for name, is_proxy in listed]
    found = []
    for feature in feature_names:
        words = _words(feature)
        for attribute, is_proxy, attribute_words in patterns:
            if _matches(words, attribute_words):
                found.append(ProtectedInput(feature, attribute, is_proxy))
                break
    return tuple(found)


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


def _words(name: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORD.findall(name))


def _matches(words: tuple[str, ...], attribute_words: tuple[str, ...]) -> bool:
    size = len(attribute_words)
    for start in range(len(words)):
        if words[start : start + size] == attribute_words:
            return True
    compact = "".join(attribute_words)
    for start in range(len(words)):
        joined = ""
        for word in words[start:]:
            joined += word
            if joined == compact:
                return True
            if len(joined) >= len(compact):
                break
    return False


__all__ = ["ProtectedInput", "check_personalization_inputs", "find_protected_inputs"]
