"""Protected attributes and demographics in customer data: found by name and in text.

Pricing refuses protected attributes and their proxies among its *feature names*
(:mod:`pricegraph.pricing.fairness`). Customer data can carry them in two other places:

* attributes (the ``attributes`` of a customers file, or columns a mapping turns into
  attributes): their names are matched against the guardrails' protected and proxy
  lists plus :data:`DEMOGRAPHIC_ATTRIBUTES`; the load report names the matches;
* free text (``profile_text``): a text that states a demographic (``AGE_DESC: 45-54``,
  ``married``, ``household income 50-74K``) is found by :func:`demographic_terms`;
  the load report counts them, and ``pricegraph embed`` leaves such texts out of the
  customer vectors unless ``PRICEGRAPH_EMBEDDINGS__ALLOW_DEMOGRAPHIC_TEXT=true``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

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

_FREE_WORDS = re.compile(
    r"\b(age|years old|income|salary|married|marital|divorced|widowed|gender|male|female|"
    r"pregnan\w*|religio\w*|ethnic\w*|disabilit\w*|homeowner|date of birth)\b",
    re.IGNORECASE,
)
_KEYED = re.compile(r"([A-Za-z][A-Za-z0-9_ ]{0,40}?)\s*[:=]")


def flagged_attributes(names: Iterable[str]) -> dict[str, str]:
    """Attribute name -> what it matched (``"age (protected)"``, ``"income (demographic)"``)
    for the names that are protected attributes, proxies or demographics."""
    return dict(_flagged(tuple(names)))


@functools.lru_cache(maxsize=4096)
def _flagged(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from ..pricing.fairness import find_protected_inputs

    config, extra = _configs()
    found = {
        hit.feature: f"{hit.attribute} ({'proxy' if hit.is_proxy else 'protected'})"
        for hit in find_protected_inputs(names, config)
    }
    for hit in find_protected_inputs([n for n in names if n not in found], extra):
        found[hit.feature] = f"{hit.attribute} (demographic)"
    return tuple(found.items())


@functools.lru_cache(maxsize=1)
def _configs() -> tuple[Any, Any]:
    """The guardrails' default lists, and one listing only :data:`DEMOGRAPHIC_ATTRIBUTES`."""
    from ..pricing.guardrail_config import GuardrailConfig

    config = GuardrailConfig()
    extra = config.model_copy(
        update={"protected_attributes": (), "proxy_attributes": DEMOGRAPHIC_ATTRIBUTES}
    )
    return config, extra


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


__all__ = [
    "DEMOGRAPHIC_ATTRIBUTES",
    "demographic_terms",
    "flagged_attributes",
    "texts_with_demographics",
]
