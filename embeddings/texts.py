"""The text each kind of item is embedded from: one documented function per kind.

Texts read like a short catalog entry, most telling facts first, because
all-MiniLM-L6-v2 truncates at 256 word pieces and weighs the start most.
"""

from __future__ import annotations

import hashlib


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return " ".join(str(value).split())


def product_text(
    name: object,
    description: object = None,
    brand: object = None,
    brand_tier: object = None,
    category_path: object = None,
    attributes: object = None,
) -> str:
    """``"<name>. <brand> (<tier>). <category path>. <description> <attributes>"``.

    Args:
        name: Product name (required; the rest may be missing).
        description: Free text.
        brand: Brand name.
        brand_tier: Brand tier (e.g. ``luxury``).
        category_path: ``"Women > Bags"``, root first.
        attributes: ``"material=lambskin; colour=black"`` or any text.

    Example:
        >>> product_text("Quilted Tote", "Soft lambskin.", "Verne", "luxury", "Women > Bags")
        'Quilted Tote. Verne (luxury). Women > Bags. Soft lambskin.'
    """
    parts = [_clean(name)]
    brand_part = _clean(brand)
    if brand_part and _clean(brand_tier):
        brand_part += f" ({_clean(brand_tier)})"
    parts += [brand_part, _clean(category_path)]
    body = " ".join(p for p in (_clean(description), _clean(attributes)) if p)
    parts.append(body)
    return ". ".join(p.rstrip(".") for p in parts if p) + ("." if body else "")


def brand_text(name: object, tier: object = None, description: object = None) -> str:
    """``"<name>, a <tier> brand. <description>"``."""
    text = _clean(name)
    if _clean(tier):
        text += f", a {_clean(tier)} brand"
    if _clean(description):
        text += f". {_clean(description)}"
    return text


def customer_profile_text(profile_text: object, country: object = None) -> str:
    """The customer's own profile text (preferences written by staff or the customer),
    with the country; empty when there is no profile text (no text vector then)."""
    profile = _clean(profile_text)
    if not profile:
        return ""
    return f"{profile} ({_clean(country)})" if _clean(country) else profile


def text_hash(text: str, model_name: str) -> str:
    """Hash of a text and the model that embeds it: equal hashes need no model work."""
    return hashlib.sha1(f"{model_name}\x1f{text}".encode()).hexdigest()[:20]


__all__ = ["brand_text", "customer_profile_text", "product_text", "text_hash"]
