"""Vocabularies and text templates for the synthetic luxury-fashion world.

Product names and descriptions are composed from per-category vocabularies, so
products of the same category (and of the same material) share words and read
alike. A later text-embedding step relies on that: nearest neighbours in
embedding space should mostly be products of the same category.

Everything here is data or a pure function of its arguments; randomness is drawn
by the caller (:mod:`pricegraph.synthetic.catalog`) and passed in as
indices.
"""

from __future__ import annotations

from dataclasses import dataclass

TIERS: tuple[str, ...] = ("contemporary", "premium", "luxury", "haute")
"""Brand tiers, cheapest first; a tier's index is used in price and taste tables."""

ROOTS: tuple[tuple[str, str], ...] = (
    ("women", "Women"),
    ("men", "Men"),
    ("accessories", "Accessories"),
)
"""Root categories as ``(slug, display name)``."""

LEAVES: tuple[tuple[str, str, str], ...] = (
    ("women", "dresses", "Dresses"),
    ("women", "knitwear", "Knitwear"),
    ("women", "outerwear", "Outerwear"),
    ("women", "shoes", "Shoes"),
    ("women", "bags", "Bags"),
    ("men", "tailoring", "Tailoring"),
    ("men", "knitwear", "Knitwear"),
    ("men", "outerwear", "Outerwear"),
    ("men", "shoes", "Shoes"),
    ("accessories", "small-leather-goods", "Small leather goods"),
    ("accessories", "jewellery", "Jewellery"),
    ("accessories", "eyewear", "Eyewear"),
    ("accessories", "scarves", "Scarves"),
    ("accessories", "belts", "Belts"),
)
"""Leaf categories as ``(root slug, line, display name)``; products point at leaves."""


@dataclass(frozen=True)
class LineVocabulary:
    """Words for one product line (e.g. bags), shared by every leaf of that line.

    Args:
        base_price: List price of a ``premium``-tier item of average material, in
            EUR gross.
        nouns: Product nouns, title case (``"Shoulder Bag"``).
        materials: ``(material, price multiplier)`` pairs, lower case.
        styles: Style adjectives, title case.
        features: Feature phrases that complete the first description sentence.
        occasions: Keys of :data:`OCCASIONS` this line is worn for.
        colours: Colour names; empty means :data:`COLOURS`.
        womens_only_nouns: Nouns left out of menswear leaves.
        return_multiplier: Factor on the segment's return rate (fit-sensitive
            lines are returned more often).
    """

    base_price: float
    nouns: tuple[str, ...]
    materials: tuple[tuple[str, float], ...]
    styles: tuple[str, ...]
    features: tuple[str, ...]
    occasions: tuple[str, ...]
    colours: tuple[str, ...] = ()
    womens_only_nouns: tuple[str, ...] = ()
    return_multiplier: float = 1.0


COLOURS: tuple[str, ...] = (
    "black", "ivory", "camel", "navy", "burgundy", "forest green", "chocolate brown",
    "grey", "cream", "red", "blush pink", "cobalt blue", "olive", "tan",
)  # fmt: skip
"""Default colour palette."""

OCCASIONS: dict[str, str] = {
    "evening": "Made for evenings out and special occasions.",
    "everyday": "An easy everyday piece that works with everything.",
    "office": "Polished enough for the office.",
    "weekend": "Relaxed enough for the weekend.",
    "travel": "Designed to travel well.",
    "ceremony": "Elegant for weddings and ceremonies.",
}
"""Occasion key -> the sentence that ends a description."""

# fmt: off
VOCABULARY: dict[str, LineVocabulary] = {
    "bags": LineVocabulary(
        1200.0,
        ("Shoulder Bag", "Tote", "Crossbody Bag", "Clutch", "Top-Handle Bag", "Bucket Bag"),
        (
            ("lambskin", 1.15),
            ("calfskin", 1.0),
            ("grained leather", 0.95),
            ("suede", 0.9),
            ("canvas", 0.7),
            ("crocodile-embossed leather", 1.3),
        ),
        ("Quilted", "Structured", "Soft", "Chain-Strap", "Mini", "Oversized"),
        (
            "finished with gold-tone hardware",
            "with a detachable chain strap",
            "lined in soft microsuede",
            "with a magnetic flap closure",
        ),
        ("evening", "everyday", "office", "travel"),
    ),
    "shoes": LineVocabulary(
        650.0,
        ("Pumps", "Ankle Boots", "Loafers", "Sneakers", "Sandals", "Chelsea Boots", "Derbies"),
        (
            ("calfskin", 1.0),
            ("suede", 0.95),
            ("patent leather", 1.05),
            ("nappa leather", 1.1),
            ("canvas", 0.7),
        ),
        ("Pointed-Toe", "Chunky", "Lug-Sole", "Square-Toe", "Minimalist", "Buckled"),
        ("with a leather sole", "with a cushioned insole", "made in Italy", "with a stacked heel"),
        ("evening", "everyday", "office", "weekend"),
        womens_only_nouns=("Pumps", "Sandals"),
        return_multiplier=1.4,
    ),
    "outerwear": LineVocabulary(
        1400.0,
        ("Trench Coat", "Wool Coat", "Puffer Jacket", "Leather Jacket", "Pea Coat", "Parka"),
        (
            ("wool", 1.0),
            ("double-faced cashmere", 1.6),
            ("gabardine", 0.9),
            ("shearling", 1.8),
            ("nappa leather", 1.4),
            ("technical nylon", 0.8),
        ),
        ("Double-Breasted", "Belted", "Oversized", "Cropped", "Tailored", "Hooded"),
        (
            "with horn buttons",
            "with a removable belt",
            "fully lined in silk twill",
            "with storm flaps and a back vent",
        ),
        ("everyday", "office", "travel", "weekend"),
        return_multiplier=1.2,
    ),
    "knitwear": LineVocabulary(
        550.0,
        ("Crewneck Sweater", "Cardigan", "Turtleneck", "V-Neck Jumper", "Knitted Polo"),
        (
            ("cashmere", 1.5),
            ("merino wool", 1.0),
            ("alpaca blend", 1.1),
            ("cotton", 0.75),
            ("silk-cashmere", 1.6),
        ),
        ("Ribbed", "Cable-Knit", "Fine-Gauge", "Chunky", "Relaxed"),
        (
            "with ribbed cuffs and hem",
            "knitted in Italy",
            "with a relaxed drop shoulder",
            "with mother-of-pearl buttons",
        ),
        ("everyday", "office", "weekend", "travel"),
    ),
    "dresses": LineVocabulary(
        900.0,
        ("Midi Dress", "Maxi Dress", "Slip Dress", "Shirt Dress", "Wrap Dress", "Mini Dress"),
        (
            ("silk", 1.2),
            ("crepe", 1.0),
            ("linen", 0.8),
            ("jersey", 0.75),
            ("satin", 1.1),
            ("tweed", 1.3),
            ("lace", 1.25),
        ),
        ("Pleated", "Draped", "Belted", "Asymmetric", "Bias-Cut", "Embroidered"),
        (
            "with a concealed back zip",
            "cut for a fluid drape",
            "with a flattering wrap waist",
            "fully lined",
        ),
        ("evening", "ceremony", "everyday"),
        return_multiplier=1.6,
    ),
    "tailoring": LineVocabulary(
        1600.0,
        ("Suit Jacket", "Two-Piece Suit", "Blazer", "Tailored Trousers", "Waistcoat"),
        (
            ("virgin wool", 1.0),
            ("wool-mohair", 1.15),
            ("flannel", 0.95),
            ("linen", 0.85),
            ("cashmere", 1.6),
            ("cotton twill", 0.75),
        ),
        ("Single-Breasted", "Double-Breasted", "Slim-Fit", "Unstructured", "Peak-Lapel"),
        (
            "with a half-canvas construction",
            "with functional cuff buttons",
            "finished with pick stitching",
            "with a single back vent",
        ),
        ("office", "ceremony", "evening"),
        return_multiplier=1.3,
    ),
    "small-leather-goods": LineVocabulary(
        350.0,
        ("Card Holder", "Zip Wallet", "Bifold Wallet", "Key Pouch", "Passport Cover"),
        (
            ("calfskin", 1.0),
            ("grained leather", 0.95),
            ("lambskin", 1.1),
            ("saffiano leather", 1.0),
            ("exotic-embossed leather", 1.25),
        ),
        ("Compact", "Monogram", "Embossed", "Slim", "Zip-Around"),
        (
            "with six card slots",
            "with gold-tone logo lettering",
            "with a zip coin pocket",
            "with a snap closure",
        ),
        ("everyday", "travel", "office"),
        return_multiplier=0.5,
    ),
    "jewellery": LineVocabulary(
        450.0,
        ("Hoop Earrings", "Chain Necklace", "Signet Ring", "Cuff Bracelet", "Pendant"),
        (
            ("sterling silver", 0.7),
            ("gold-plated brass", 0.6),
            ("18k yellow gold", 2.5),
            ("vermeil", 0.9),
            ("freshwater pearl", 1.0),
        ),
        ("Chunky", "Delicate", "Sculptural", "Engraved", "Enamelled"),
        (
            "with a lobster clasp",
            "set with cubic zirconia",
            "hand-finished in Italy",
            "with a polished finish",
        ),
        ("evening", "ceremony", "everyday"),
        colours=("polished", "brushed", "hammered", "matte"),
        return_multiplier=0.6,
    ),
    "eyewear": LineVocabulary(
        320.0,
        ("Sunglasses", "Optical Frames", "Aviator Sunglasses", "Cat-Eye Sunglasses"),
        (("acetate", 1.0), ("titanium", 1.3), ("metal", 0.9), ("bio-acetate", 1.05)),
        ("Oversized", "Round", "Square", "Rimless", "Tinted"),
        (
            "with 100% UV protection",
            "with gradient lenses",
            "with gold-tone temples",
            "supplied with a leather case",
        ),
        ("everyday", "travel", "weekend"),
        colours=("black", "tortoiseshell", "gold", "silver", "honey", "clear"),
        return_multiplier=0.7,
    ),
    "scarves": LineVocabulary(
        280.0,
        ("Scarf", "Stole", "Square Scarf", "Bandana", "Wrap"),
        (
            ("silk twill", 1.0),
            ("cashmere", 1.5),
            ("wool-silk", 1.2),
            ("modal", 0.7),
            ("merino wool", 0.9),
        ),
        ("Printed", "Fringed", "Logo-Jacquard", "Checked", "Reversible"),
        (
            "with hand-rolled edges",
            "with a fringed trim",
            "printed in Como",
            "with a jacquard logo motif",
        ),
        ("everyday", "travel", "evening"),
        return_multiplier=0.5,
    ),
    "belts": LineVocabulary(
        300.0,
        ("Leather Belt", "Reversible Belt", "Chain Belt", "Waist Belt"),
        (
            ("calfskin", 1.0),
            ("suede", 0.9),
            ("patent leather", 1.05),
            ("croc-embossed leather", 1.2),
        ),
        ("Logo-Buckle", "Slim", "Wide", "Braided", "Reversible"),
        (
            "with a polished logo buckle",
            "with a brushed silver buckle",
            "adjustable with five holes",
        ),
        ("everyday", "office", "evening"),
        return_multiplier=0.8,
    ),
}
# fmt: on
"""Product line -> its vocabulary."""

TIER_PRICE_MULTIPLIER: tuple[float, ...] = (0.45, 1.0, 2.2, 4.5)
"""List-price factor per tier (index of :data:`TIERS`) relative to ``premium``."""

TIER_COST_RATIO: tuple[float, ...] = (0.42, 0.35, 0.28, 0.22)
"""Median unit cost as a share of list price per tier."""


@dataclass(frozen=True)
class ProductText:
    """A product's composed texts."""

    name: str
    """Display name: brand, style, material and noun."""
    description: str
    """Two sentences: what it is and made of, then the occasion."""
    attributes: str
    """``key=value`` pairs joined by ``"; "``."""


def compose_product_text(
    brand: str,
    line: str,
    picks: tuple[int, int, int, int, int, int],
    season: str,
    *,
    is_menswear: bool = False,
) -> ProductText:
    """Compose a product's name, description and attributes from vocabulary picks.

    Args:
        brand: Brand display name.
        line: Product line, a key of :data:`VOCABULARY`.
        picks: Non-negative integers choosing (noun, material, style, colour,
            feature, occasion); each is taken modulo its list's length.
        season: Season code such as ``"AW25"``.
        is_menswear: Whether the leaf is under ``Men`` (drops womenswear-only nouns).

    Returns:
        The composed texts, e.g. name ``"Maison Verne Quilted Lambskin Shoulder Bag"``.
    """
    vocab = VOCABULARY[line]
    colours = vocab.colours or COLOURS
    nouns = vocab.nouns
    if is_menswear:
        nouns = tuple(n for n in nouns if n not in vocab.womens_only_nouns)
    noun = nouns[picks[0] % len(nouns)]
    material = vocab.materials[picks[1] % len(vocab.materials)][0]
    style = vocab.styles[picks[2] % len(vocab.styles)]
    colour = colours[picks[3] % len(colours)]
    feature = vocab.features[picks[4] % len(vocab.features)]
    occasion = vocab.occasions[picks[5] % len(vocab.occasions)]
    name = f"{brand} {style} {material.title()} {noun}"
    description = f"{style} {noun.lower()} in {colour} {material}, {feature}. {OCCASIONS[occasion]}"
    attributes = (
        f"material={material}; colour={colour}; style={style.lower()}; "
        f"occasion={occasion}; season={season}"
    )
    return ProductText(name, description, attributes)


def material_multiplier(line: str, pick: int) -> float:
    """Return the list-price factor of material ``pick`` of ``line`` (modulo its length)."""
    materials = VOCABULARY[line].materials
    return materials[pick % len(materials)][1]


__all__ = [
    "COLOURS",
    "LEAVES",
    "OCCASIONS",
    "ROOTS",
    "TIERS",
    "TIER_COST_RATIO",
    "TIER_PRICE_MULTIPLIER",
    "VOCABULARY",
    "LineVocabulary",
    "ProductText",
    "compose_product_text",
    "material_multiplier",
]
