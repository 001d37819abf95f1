"""Configuration of the synthetic world: the frozen :class:`WorldConfig` and segment presets.

The config is saved with every generated world (``ground_truth/model.json``), so
a world can be regenerated exactly from its seed and config.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..errors import ConfigError
from .names import MAX_BRANDS


@dataclass(frozen=True)
class SegmentSpec:
    """The latent parameters of one customer segment (means; customers vary around them).

    Args:
        name: Human-readable segment name.
        share: Relative share of customers (normalised over the segments in use).
        beta_mean: Mean price sensitivity :math:`\\beta` (> 0); the coefficient on
            :math:`-\\log(p / p^{ref})` in the utility.
        alpha: Segment intercept of the utility of buying anything (conversion level).
        visit_rate: Mean visits per customer-day before seasonal factors.
        sale_visit_uplift: Extra relative visit rate on sale days (``0.5`` = +50 %).
        holiday_visit_uplift: Extra relative visit rate at the holiday peak
            (mid November to 24 December).
        views_mean: Mean products drawn per visit (before removing repeats), >= 1.
        brand_focus: Probability that a view is drawn from the favourite brands.
        category_focus: Probability that a view is drawn from the favourite categories.
        tier_weights: View and favourite-brand weight per tier, in :data:`TIERS` order.
        return_rate: Probability that a purchase line is returned (before the
            product line's multiplier).
        favourite_brands_mean: Mean number of favourite brands (>= 1).
    """

    name: str
    share: float
    beta_mean: float
    alpha: float
    visit_rate: float
    sale_visit_uplift: float
    holiday_visit_uplift: float
    views_mean: float
    brand_focus: float
    category_focus: float
    tier_weights: tuple[float, float, float, float]
    return_rate: float
    favourite_brands_mean: float


SEGMENT_PRESETS: tuple[SegmentSpec, ...] = (
    SegmentSpec(
        "bargain hunters", 0.35, 3.5, -0.2, 0.05, 1.5, 0.4, 4.0, 0.15, 0.35,
        (1.6, 1.2, 0.6, 0.2), 0.10, 2.0,
    ),
    SegmentSpec(
        "brand loyalists", 0.25, 1.0, 0.2, 0.04, 0.3, 0.4, 3.0, 0.65, 0.15,
        (0.7, 1.2, 1.3, 0.8), 0.07, 1.5,
    ),
    SegmentSpec(
        "trend followers", 0.25, 2.0, 0.0, 0.06, 0.6, 0.5, 4.5, 0.25, 0.25,
        (1.0, 1.3, 1.1, 0.5), 0.22, 3.0,
    ),
    SegmentSpec(
        "VIC / top spenders", 0.15, 0.5, 0.6, 0.08, 0.2, 0.6, 3.5, 0.45, 0.2,
        (0.3, 0.8, 1.6, 2.5), 0.15, 3.0,
    ),
    SegmentSpec(
        "occasional gifters", 0.15, 2.5, 0.0, 0.015, 0.4, 3.0, 2.5, 0.2, 0.4,
        (1.0, 1.0, 1.0, 0.5), 0.05, 1.5,
    ),
    SegmentSpec(
        "window shoppers", 0.2, 3.0, -1.0, 0.07, 0.5, 0.5, 5.0, 0.1, 0.3,
        (0.8, 1.0, 1.2, 1.2), 0.12, 2.0,
    ),
)  # fmt: skip
"""Segments in the order they are used: ``n_segments=k`` uses the first ``k``."""


@dataclass(frozen=True)
class WorldConfig:
    """Everything that shapes a synthetic world; the same config gives the same world.

    Money is EUR gross (or ``currency``), times are UTC, durations are days.
    """

    seed: int = 7
    """Seed of the single ``numpy`` generator tree; same seed and config, same world."""
    n_brands: int = 24
    """Number of brands (1 to 288); every brand gets at least one product."""
    n_products: int = 600
    """Number of products (>= n_brands)."""
    n_customers: int = 2000
    """Number of customers."""
    n_segments: int = 4
    """Number of latent customer segments (1 to 6), the first of :data:`SEGMENT_PRESETS`."""
    n_competitors: int = 3
    """Number of competitors whose prices are scraped (0 or more)."""
    n_days: int = 180
    """Length of the simulated horizon in days."""
    start: str = "2025-01-01"
    """First simulated day (ISO date, UTC midnight)."""
    currency: str = "EUR"
    """ISO 4217 currency of every price."""
    visit_rate_scale: float = 1.0
    """Factor on every segment's visits per customer-day (events scale with it)."""
    max_views_per_visit: int = 8
    """Cap on products drawn per visit."""
    new_customer_share: float = 0.15
    """Share of customers who sign up during the horizon (they visit from then on)."""
    markdown_share: float = 0.4
    """Share of products marked down in each seasonal sale (half of it on Black Friday)."""
    markdown_depths_pct: tuple[int, ...] = (20, 30, 40, 50)
    """Possible first markdown depths in percent off list price."""
    second_markdown_prob: float = 0.5
    """Probability that a seasonal markdown deepens by 10-20 points halfway (capped at 60 %)."""
    promo_rate_per_year: float = 1.0
    """Short promotions per product per year outside sales (10-25 % off, 3-10 days)."""
    competitor_coverage: float = 0.5
    """Share of products the first competitor tracks; competitor k tracks 0.7**k of that."""
    competitor_change_days: tuple[int, int] = (14, 35)
    """Range (inclusive) of days between a competitor's price changes."""
    base_utility_mean: float = -4.0
    """Mean of the product base utility :math:`a_j`."""
    base_utility_sd: float = 0.6
    """Standard deviation of :math:`a_j`."""
    popularity_correlation: float = 0.6
    """Correlation between a product's view weight (log) and its base utility."""
    gamma_affinity: float = 1.0
    """Utility weight :math:`\\gamma` of the customer's affinity to the product's brand."""
    delta_competitor: float = 1.5
    """Utility weight :math:`\\delta` of :math:`\\log(c / p)`, c the cheapest competitor."""
    beta_log_sd: float = 0.3
    """Log-scale spread of customer price sensitivity around the segment mean."""
    beta_tier_link: float = 0.0
    """How much a customer's price sensitivity shows in which brands it favours: the log
    weight of a favourite brand gets ``-beta_tier_link * z_c * tier_level_b``, ``z_c`` the
    customer's standard-normal sensitivity draw and ``tier_level_b`` the log list-price
    factor of the brand's tier (centred), so price-sensitive customers favour cheaper
    tiers. 0 (the default) keeps the world as before; >= 0."""
    cart_abandon_prob: float = 0.06
    """Probability that a viewed product that is not bought is still added to the cart."""
    multi_unit_prob: float = 0.05
    """Probability of each extra unit in a purchase line (qty is geometric, max 4)."""
    return_rate_scale: float = 1.0
    """Factor on every segment's return rate."""
    return_delay_days: tuple[int, int] = (3, 21)
    """Range (inclusive) of days from purchase to return; returns after the horizon are cut."""

    def __post_init__(self) -> None:
        """Reject values outside their documented ranges, naming the field."""
        _check(self, "n_brands", 1 <= self.n_brands <= MAX_BRANDS, f"1..{MAX_BRANDS}")
        _check(self, "n_products", self.n_products >= self.n_brands, ">= n_brands")
        _check(self, "n_customers", self.n_customers >= 1, ">= 1")
        n_presets = len(SEGMENT_PRESETS)
        _check(self, "n_segments", 1 <= self.n_segments <= n_presets, f"1..{n_presets}")
        _check(self, "n_competitors", self.n_competitors >= 0, ">= 0")
        _check(self, "n_days", self.n_days >= 1, ">= 1")
        try:
            date.fromisoformat(self.start)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f'WorldConfig field "start": expected an ISO date, got {self.start!r}'
            ) from exc
        _check(self, "currency", len(self.currency) == 3, "a 3-letter ISO 4217 code")
        _check(self, "visit_rate_scale", self.visit_rate_scale > 0, "> 0")
        _check(self, "max_views_per_visit", self.max_views_per_visit >= 1, ">= 1")
        for name in (
            "new_customer_share",
            "markdown_share",
            "second_markdown_prob",
            "competitor_coverage",
            "cart_abandon_prob",
        ):
            _check(self, name, 0.0 <= getattr(self, name) <= 1.0, "in [0, 1]")
        _check(self, "multi_unit_prob", 0.0 <= self.multi_unit_prob < 1.0, "in [0, 1)")
        depths = self.markdown_depths_pct
        _check(self, "markdown_depths_pct", len(depths) > 0, "a non-empty tuple")
        _check(self, "markdown_depths_pct", all(0 < d < 100 for d in depths), "in (0, 100)")
        _check(self, "promo_rate_per_year", self.promo_rate_per_year >= 0, ">= 0")
        for name in ("competitor_change_days", "return_delay_days"):
            low, high = getattr(self, name)
            _check(self, name, 1 <= low <= high, "(low, high) with 1 <= low <= high")
        _check(self, "base_utility_sd", self.base_utility_sd >= 0, ">= 0")
        _check(self, "popularity_correlation", -1 <= self.popularity_correlation <= 1, "[-1, 1]")
        _check(self, "beta_log_sd", self.beta_log_sd >= 0, ">= 0")
        _check(self, "beta_tier_link", self.beta_tier_link >= 0, ">= 0")
        _check(self, "return_rate_scale", self.return_rate_scale >= 0, ">= 0")

    @property
    def segments(self) -> tuple[SegmentSpec, ...]:
        """The segments in use, with shares normalised to sum to 1."""
        chosen = SEGMENT_PRESETS[: self.n_segments]
        total = sum(s.share for s in chosen)
        return tuple(SegmentSpec(**{**s.__dict__, "share": s.share / total}) for s in chosen)

    @property
    def start_date(self) -> date:
        """``start`` as a date."""
        return date.fromisoformat(self.start)

    @property
    def start_epoch_s(self) -> int:
        """UTC midnight of ``start`` in seconds since the Unix epoch."""
        day = self.start_date
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _check(config: WorldConfig, name: str, is_ok: bool, expected: str) -> None:
    if not is_ok:
        value = getattr(config, name)
        raise ConfigError(f'WorldConfig field "{name}": expected {expected}, got {value!r}')


__all__ = ["SEGMENT_PRESETS", "SegmentSpec", "WorldConfig"]
