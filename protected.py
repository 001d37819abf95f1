"""Protected attributes, their proxies and demographics: the names, and where they occur.

A leaf module (it imports no other part of pricegraph), because three layers need the
same lists and the same matching rule:

* pricing refuses personalization inputs whose *names* are protected attributes or
  proxies (:mod:`pricegraph.pricing.guardrails.fairness`; the guardrail settings default to
  :data:`DEFAULT_PROTECTED_ATTRIBUTES` and :data:`DEFAULT_PROXY_ATTRIBUTES`);
* the loaders flag customer *attributes* with such names, plus
  :data:`DEMOGRAPHIC_ATTRIBUTES`, and count *profile texts* that state a demographic
  (``AGE_DESC: 45-54``, ``married``, ``household income 50-74K``);
* the customer embeddings leave such texts out of the customer vectors unless
  ``PRICEGRAPH_EMBEDDINGS__ALLOW_DEMOGRAPHIC_TEXT=true``.

Names are compared word by word, ignoring case, separators and camelCase, so
``customer_gender``, ``age_years``, ``zipCode`` and ``DOB`` are caught while ``page_views``
and ``average_basket`` (which merely contain ``age``) are not. A listed name matches
when its words appear in a row in the name, or when it equals words of the name
written together (``zip_code`` matches ``zipcode``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

DEFAULT_PROTECTED_ATTRIBUTES: tuple[str, ...] = (
    "gender",
    "sex",
    "age",
    "date_of_birth",
    "birth_date",
    "birthdate",
    "birthday",
    "dob",
    "ethnicity",
    "ethnic_origin",
    "race",
    "racial_origin",
    "skin_colour",
    "skin_color",
    "religion",
    "belief",
    "disability",
    "health",
    "genetic",
    "biometric",
    "nationality",
    "marital_status",
    "sexual_orientation",
    "pregnancy",
    "maternity",
    "political_opinion",
    "trade_union",
)
"""Attributes protected by EU anti-discrimination law and GDPR Art. 9 (special categories)."""

DEFAULT_PROXY_ATTRIBUTES: tuple[str, ...] = (
    "postcode",
    "post_code",
    "postal_code",
    "zip",
    "zip_code",
    "zipcode",
    "first_name",
    "given_name",
    "forename",
    "last_name",
    "surname",
    "family_name",
    "title",
    "salutation",
    "honorific",
    "pronoun",
    "pronouns",
    "mother_tongue",
    "native_language",
    "country_of_birth",
    "place_of_birth",
    "citizenship",
    "year_of_birth",
    "birth_year",
)
"""Inputs that stand in for a protected attribute (place of residence, names, forms of address)."""

DEMOGRAPHIC_ATTRIBUTES: tuple[str, ...] = (
    "income",
    "salary",
    "household_income",
    "household_size",
    "household_composition",
    "hh_comp",
    "homeowner",
    "home_ownership",
    "number_of_children",
    "kid_category",
    "education",
    "occupation",
)
"""Demographics that are not protected attributes themselves but stand close to them
(income, household make-up): flagged like proxies, on top of the guardrails' lists."""

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_FREE_WORDS = re.compile(
    r"\b(age|years old|income|salary|married|marital|divorced|widowed|gender|male|female|"
    r"pregnan\w*|religio\w*|ethnic\w*|disabilit\w*|homeowner|date of birth)\b",
    re.IGNORECASE,
)
_KEYED = re.compile(r"([A-Za-z][A-Za-z0-9_ ]{0,40}?)\s*[:=]")


@dataclass(frozen=True)
class ProtectedInput:
    """A feature name that matched a protected attribute or a proxy."""

    feature: str
    """The feature name as given."""
    attribute: str
    """The listed attribute it matched."""
    is_proxy: bool
    """Whether the attribute is a proxy rather than a protected attribute itself."""


def find_protected_names(
    names: Iterable[str],
    protected_attributes: Iterable[str] = DEFAULT_PROTECTED_ATTRIBUTES,
    proxy_attributes: Iterable[str] = DEFAULT_PROXY_ATTRIBUTES,
) -> tuple[ProtectedInput, ...]:
    """Every name that matches a protected attribute or a proxy, in input order.

    A name matching several entries is reported once, for the first protected attribute
    it matches, else the first proxy.

    Args:
        names: Feature, attribute or column names.
        protected_attributes: Protected attributes (default: the EU/GDPR list).
        proxy_attributes: Proxies of them (default: residence, names, forms of address).
    """
    listed = [(name, False) for name in protected_attributes] + [
        (name, True) for name in proxy_attributes
    ]
    patterns = [(name, is_proxy, _words(name)) for name, is_proxy in listed]
    found = []
    for feature in names:
        words = _words(feature)
        for attribute, is_proxy, attribute_words in patterns:
            if _matches(words, attribute_words):
                found.append(ProtectedInput(feature, attribute, is_proxy))
                break
    return tuple(found)


def flagged_attributes(names: Iterable[str]) -> dict[str, str]:
    """Attribute name -> what it matched (``"age (protected)"``, ``"income (demographic)"``)
    for the names that are protected attributes, proxies or demographics (default lists)."""
    return dict(_flagged(tuple(names)))


@functools.lru_cache(maxsize=4096)
def _flagged(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found = {
        hit.feature: f"{hit.attribute} ({'proxy' if hit.is_proxy else 'protected'})"
        for hit in find_protected_names(names)
    }
    rest = [n for n in names if n not in found]
    for hit in find_protected_names(rest, (), DEMOGRAPHIC_ATTRIBUTES):
        found[hit.feature] = f"{hit.attribute} (demographic)"
    return tuple(found.items())


def demographic_terms(text: object) -> list[str]:
    """The demographic words and keys one text states, lower-cased, once each."""
    if not isinstance(text, str) or not text.strip():
        return []
    terms = [m.group(1).lower() for m in _FREE_WORDS.finditer(text)]
    keys = [m.group(1).strip() for m in _KEYED.finditer(text)]
    if keys:
        terms += [hit.split(" (")[0] for hit in flagged_attributes(keys).values()]
    return list(dict.fromkeys(terms))


def texts_with_demographics(texts: pd.Series) -> pd.Series:
    """The texts of ``texts`` (same index) that state a demographic -> their terms."""
    present = texts.dropna()
    present = present[present.astype(str).str.strip() != ""]
    hits = present.astype(str).map(demographic_terms)
    return hits[hits.map(len) > 0]


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


__all__ = [
    "DEFAULT_PROTECTED_ATTRIBUTES",
    "DEFAULT_PROXY_ATTRIBUTES",
    "DEMOGRAPHIC_ATTRIBUTES",
    "ProtectedInput",
    "demographic_terms",
    "find_protected_names",
    "flagged_attributes",
    "texts_with_demographics",
]
