"""Rules on single values that both validators apply, each with one reason text.

:mod:`~pricegraph.loaders.validation` (pandas) and
:mod:`~pricegraph.loaders.record_validation` (plain Python) check the same things with
the same reasons; the plain checks of a value are here next to their vectorised
forms, so the two cannot drift:

* **text**: a string that does not encode as UTF-8 (a lone surrogate, which a JSON
  ``"\\udc00"`` escape gives) is refused, and shown with the surrogate escaped;
* **ids** (:attr:`~pricegraph.loaders.formats.FieldSpec.is_key`): 1 to
  :data:`~pricegraph.loaders.formats.MAX_KEY_LENGTH` printable characters
  (``str.isprintable``: no control, format, surrogate or separator character other
  than the space), the rule the API reads keys by, so every stored row can be fetched;
* **lengths** (:attr:`~pricegraph.loaders.formats.FieldSpec.max_length`) and
  **patterns** (a currency is three capital letters);
* **dates** lie in the years :data:`~pricegraph.loaders.formats.MIN_YEAR` to
  :data:`~pricegraph.loaders.formats.MAX_YEAR` (UTC);
* **purchase and return lines**: ``qty * unit_price`` at most
  :data:`~pricegraph.loaders.formats.MAX_AMOUNT` (the reject names ``qty``), and so is
  the amount before the discount, ``qty * unit_price + discount`` (it names ``discount``).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd

from .formats import MAX_AMOUNT, MAX_KEY_LENGTH, MAX_YEAR, MIN_YEAR, FieldSpec

NOT_UTF8 = "not valid UTF-8 text"
KEY_REASON = f"expected a key of 1 to {MAX_KEY_LENGTH} printable characters"
DATE_RANGE = f"in the years {MIN_YEAR} to {MAX_YEAR}"
EARLIEST = datetime(MIN_YEAR, 1, 1)
"""Earliest date-time stored (naive UTC), inclusive."""
END = datetime(MAX_YEAR + 1, 1, 1)
"""First date-time after the range (naive UTC), exclusive."""
LINE_AMOUNT_REASON = f"qty * unit_price exceeds {MAX_AMOUNT:g}, the largest amount"
GROSS_AMOUNT_REASON = f"qty * unit_price + discount exceeds {MAX_AMOUNT:g}, the largest amount"
_PATTERN_NAMES = {"[A-Z]{3}": "an ISO 4217 currency code (three capital letters, e.g. EUR)"}
_ASCII_KEY = f"[ -~]{{1,{MAX_KEY_LENGTH}}}"


def is_utf8(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (it holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(value: object) -> str:
    """``value`` as a reject shows it: text with lone surrogates escaped (``\\udc00``)."""
    text = str(value)
    return text if is_utf8(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def is_key(text: str) -> bool:
    """Whether ``text`` (trimmed) is a key: 1 to ``MAX_KEY_LENGTH`` printable characters."""
    return 1 <= len(text) <= MAX_KEY_LENGTH and text.isprintable()


def text_reason(spec: FieldSpec, text: str) -> str | None:
    """Why the trimmed text ``text`` breaks ``spec``'s rules, or ``None``."""
    if spec.is_key and not is_key(text):
        return KEY_REASON
    if spec.max_length is not None and len(text) > spec.max_length:
        return length_reason(spec.max_length)
    if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
        return f"expected {_PATTERN_NAMES.get(spec.pattern, spec.pattern)}"
    return None


def length_reason(max_length: int) -> str:
    """The reason of a text longer than ``max_length`` characters."""
    return f"expected at most {max_length:,} characters"


def text_rejects(spec: FieldSpec, typed: pd.Series) -> list[tuple[np.ndarray, str]]:
    """:func:`text_reason` over a column of trimmed texts (``None`` where missing), as
    ``(mask, reason)`` pairs, each row in the mask of its first broken rule only."""
    if not (spec.is_key or spec.max_length is not None or spec.pattern is not None):
        return []
    present = typed.notna().to_numpy()
    if not present.any():
        return []
    text = typed.astype("string")
    out: list[tuple[np.ndarray, str]] = []
    left = present.copy()
    if spec.is_key:
        plain = text.str.fullmatch(_ASCII_KEY).fillna(False).to_numpy(bool)
        bad = left & ~plain  # the rest, mostly non-ASCII ids, one by one
        rows = np.flatnonzero(bad)
        values = typed.to_numpy(object)[rows]
        bad[rows] = [not is_key(value) for value in values]
        out.append((bad, KEY_REASON))
        left &= ~bad
    if spec.max_length is not None:
        long = left & (text.str.len().fillna(0).to_numpy(int) > spec.max_length)
        out.append((long, length_reason(spec.max_length)))
        left &= ~long
    if spec.pattern is not None:
        wrong = left & ~text.str.fullmatch(spec.pattern).fillna(False).to_numpy(bool)
        out.append((wrong, f"expected {_PATTERN_NAMES.get(spec.pattern, spec.pattern)}"))
    return out


def is_outside_dates(moments: np.ndarray) -> np.ndarray:
    """Mask of naive UTC ``datetime64`` values outside the years (NaT is not outside)."""
    values = moments.astype("datetime64[us]")
    low, high = np.datetime64(EARLIEST, "us"), np.datetime64(END, "us")
    return ~np.isnat(values) & ((values < low) | (values >= high))


def is_outside_date(moment: datetime) -> bool:
    """Whether the naive UTC ``moment`` lies outside the years."""
    return not EARLIEST <= moment < END


def line_amount_masks(
    qty: np.ndarray, unit_price: np.ndarray, discount: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(too_large, too_large_gross)``: event lines whose ``qty * unit_price`` exceeds
    ``MAX_AMOUNT``, and the other lines whose ``qty * unit_price + discount`` does (float
    arrays, NaN where missing: a line without a unit price is neither, a missing
    discount is 0). A unit price or discount itself above ``MAX_AMOUNT`` is its own
    field's reject, so that line is neither."""
    with np.errstate(invalid="ignore", over="ignore"):
        discount = np.nan_to_num(discount, nan=0.0)
        is_bounded = ~(unit_price > MAX_AMOUNT) & ~(discount > MAX_AMOUNT)
        amount = qty * unit_price
        too_large = is_bounded & (amount > MAX_AMOUNT)
        too_large_gross = is_bounded & ~too_large & (amount + discount > MAX_AMOUNT)
    return too_large, too_large_gross


__all__ = [
    "DATE_RANGE",
    "EARLIEST",
    "END",
    "GROSS_AMOUNT_REASON",
    "KEY_REASON",
    "LINE_AMOUNT_REASON",
    "NOT_UTF8",
    "is_key",
    "is_outside_date",
    "is_outside_dates",
    "is_utf8",
    "length_reason",
    "line_amount_masks",
    "shown",
    "text_reason",
    "text_rejects",
]
