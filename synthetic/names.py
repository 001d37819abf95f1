"""Names for the synthetic world: brands (with a one-line description) and competitors.

All names are invented; any likeness to a real house is accidental.
"""

from __future__ import annotations

_BRAND_PREFIXES = ("Maison", "Atelier", "Casa", "Studio", "House of", "Officine")
_BRAND_SURNAMES = (
    "Verne", "Solenne", "Ardenti", "Valmont", "Castellane", "Orsini", "Lindqvist",
    "Harcourt", "Beaumont", "Ravel", "Moreau", "Delacroix", "Falcone", "Marchetti",
    "Aalto", "Brenner", "Corvo", "Desmond", "Eklund", "Fontaine", "Galliard", "Hale",
    "Iseult", "Juno", "Kessler", "Lavelle", "Montclair", "Nerina", "Ostrova", "Pavone",
    "Quintel", "Rossard", "Sabatier", "Thorne", "Umbria", "Vasari", "Westerly", "Ysolde",
    "Zanetti", "Arden", "Bellamy", "Calloway", "Duval", "Everard", "Ferrante", "Greer",
    "Haverly", "Ilvane",
)  # fmt: skip
_CITIES = (
    "Paris", "Milan", "Florence", "London", "Copenhagen", "Antwerp", "Madrid", "New York",
    "Rome", "Stockholm",
)  # fmt: skip
_TIER_NOUNS = ("contemporary label", "premium house", "luxury maison", "haute couture maison")
_COMPETITORS = (
    "Luxe Avenue", "Moda Centrale", "Boutique Nord", "Galerie 54", "Atelier Online",
    "Rue Privée", "Vestiaire Uno", "The Edit Room",
)  # fmt: skip

MAX_BRANDS = len(_BRAND_PREFIXES) * len(_BRAND_SURNAMES)
"""Largest ``n_brands`` with unique brand names."""


def brand_name(index: int) -> str:
    """Return the ``index``-th brand name; distinct for ``0 <= index < MAX_BRANDS``.

    Surnames are used once before any is reused with another prefix, so small
    worlds get brands with distinct surnames (``"Maison Verne"``, ``"Atelier
    Solenne"``, ...).
    """
    n_surnames = len(_BRAND_SURNAMES)
    surname = _BRAND_SURNAMES[index % n_surnames]
    prefix = _BRAND_PREFIXES[(index + index // n_surnames) % len(_BRAND_PREFIXES)]
    return f"{prefix} {surname}"


def brand_description(name: str, tier: int, city: int, lines: tuple[str, str]) -> str:
    """Return a one-sentence brand description.

    Args:
        name: Brand name.
        tier: Index into :data:`~pricegraph.synthetic.text.TIERS`.
        city: Any integer; picks the home city modulo the city list.
        lines: The two product lines (keys of :data:`VOCABULARY`) the brand is known for.
    """
    first, second = (line.replace("-", " ") for line in lines)
    home = _CITIES[city % len(_CITIES)]
    known_for = first if first == second else f"{first} and {second}"
    return f"{name} is {_article(home)} {home}-based {_TIER_NOUNS[tier]} known for its {known_for}."


def _article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def competitor_name(index: int) -> str:
    """Return the name of competitor ``index`` (0-based)."""
    if index < len(_COMPETITORS):
        return _COMPETITORS[index]
    return f"Competitor {index + 1}"


__all__ = ["MAX_BRANDS", "brand_description", "brand_name", "competitor_name"]
