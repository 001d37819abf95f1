"""Derived columns: a canonical value computed from the file's columns, declared in the
mapping (``[files.derive]``, ``--derive``) so that no preparation step is needed.

An expression is a SQL expression as `polars' SQL <https://docs.pola.rs/api/python/stable/reference/sql/index.html>`_
reads it: arithmetic (``+ - * / %``), ``CASE WHEN … THEN … END``, ``COALESCE``,
``NULLIF``, ``CAST``, text functions (``CONCAT``, ``CONCAT_WS``, ``||``, ``UPPER``,
``LOWER``, ``TRIM``, ``SUBSTR``, ``SPLIT_PART``, ``REGEXP_REPLACE``, …) and numeric ones
(``ABS``, ``ROUND``, …). A column name with spaces, dots or other characters goes in
double quotes (``"Sales Value"``), text in single quotes (``'/'``). Polars parses it
once when the mapping is read and evaluates it on the whole file; nothing is passed
to ``eval``, an expression cannot read files, and a subquery (``IN (SELECT …)``,
``EXISTS``) is refused when it is parsed.

How the file's values are typed. CSV and JSONL values arrive as text:

* For a numeric field (``unit_price``, ``qty``, ``discount``, …) every column the
  expression reads whose values are mostly numbers is read as a number: ``1,5`` and
  other text in such a column make that row *bad* ("QUANTITY is not a number"), so do
  a division by zero and any other result that is not a finite number. Columns of
  text (no more than half of their values are numbers) stay text, so
  ``CASE WHEN DEPARTMENT = 'DELI' THEN …`` works.
* For a text field (ids, names) the columns are read as the file's text, trimmed,
  an empty value missing (a number column of a Parquet file reads as its digits,
  whole floats without ``.0``).
* Attributes (``[files.attributes]``) are numbers where the expression computes one
  with the columns read as numbers, text otherwise.

A bad row is rejected with the file, line, field, the inputs and the reason, like any
other bad value. SQL's rules for missing values hold: ``a || '/' || b`` is missing
when either part is, which a required id then rejects (a category id must not
silently become ``"GROCERY/"``), while ``CONCAT(a, b)`` skips missing parts. Examples::

    [files.derive]
    name = "SUB_COMMODITY_DESC || COALESCE(' ' || CURR_SIZE, '')"
    category_id = "DEPARTMENT || '/' || COMMODITY_DESC"
    unit_price = "(SALES_VALUE - COUPON_DISC) / QUANTITY"
    brand_id = "UPPER(TRIM(MANUFACTURER))"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl


@dataclass(frozen=True)
class Expression:
    """A parsed expression.

    Attributes:
        text: What the mapping says.
        expr: The polars expression.
        columns: The file columns it reads, in order of appearance, once each.
    """

    text: str
    expr: pl.Expr
    columns: tuple[str, ...]


def parse_expression(text: str) -> Expression:
    """Parse ``text`` as a SQL expression; :class:`ValueError` says what is wrong."""
    if not text.strip():
        raise ValueError("empty expression")
    try:
        expr = pl.sql_expr(text)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(_first_line(exc)) from exc
    if _has_subquery(expr):
        raise ValueError(
            "a subquery (SELECT ...) is not supported: an expression computes each row "
            "from that row's columns"
        )
    if not expr.meta.eq(expr.meta.undo_aliases()):
        raise ValueError(
            f"{expr.meta.output_name()!r} reads as a name given to the value before it; "
            'put a column name with spaces in double quotes: "Sales Value"'
        )
    columns = tuple(dict.fromkeys(expr.meta.root_names()))
    return Expression(text, expr, columns)


def _has_subquery(expr: pl.Expr) -> bool:
    """Whether polars planned part of ``expr`` as a query of its own (``IN (SELECT 1)``,
    ``EXISTS (...)``, ``IN (VALUES ...)``): a ``SubPlan`` node of its tree."""
    try:
        tree = expr.meta.serialize(format="json")
    except pl.exceptions.PolarsError:  # not serializable: read its printed plan
        return ".subplan(" in str(expr)
    return '{"SubPlan":' in tree  # a name or text holding it is escaped: {\"SubPlan\":


@dataclass(frozen=True)
class Derived:
    """A column computed by :func:`evaluate`.

    Attributes:
        values: One value per row (``float`` for numbers, ``object`` text otherwise;
            missing is ``NaN`` / ``None``).
        bad: Rows whose value could not be computed.
        reasons: Why, per row (empty where not bad).
        is_numeric: Whether the values are numbers.
    """

    values: pd.Series
    bad: np.ndarray
    reasons: pd.Series
    is_numeric: bool


def as_polars(frame: pd.DataFrame, expressions: Iterable[Expression]) -> pl.DataFrame:
    """The columns ``expressions`` read, converted once for all of them."""
    columns = dict.fromkeys(c for expression in expressions for c in expression.columns)
    return pl.from_pandas(frame[list(columns)]) if columns else pl.DataFrame()


def evaluate(
    expression: Expression,
    frame: pd.DataFrame,
    numeric: bool | None,
    *,
    columns: pl.DataFrame | None = None,
) -> Derived:
    """Compute ``expression`` on every row of ``frame`` (the file's columns).

    Args:
        expression: From :func:`parse_expression`.
        frame: The file's rows; every column of ``expression.columns`` is in it.
        numeric: ``True`` for a numeric field, ``False`` for a text field, ``None``
            to decide from the expression (module docstring).
        columns: ``frame``'s columns from :func:`as_polars`, when several expressions
            read the same frame (converted here otherwise).

    Raises:
        ValueError: The expression cannot be computed on these columns at all (text
            where a number is needed in every row, a function given the wrong type).
    """
    if not expression.columns:
        source = None
    elif columns is not None:
        source = columns.select(expression.columns)
    else:
        source = as_polars(frame, [expression])
    height = len(frame)
    if numeric is None:
        derived = _number_or_text(expression, source, height)
    elif numeric:
        derived = _numbers(expression, source, height)
        if not derived.is_numeric:
            raise ValueError(f"computes text ({derived.values.iloc[:1].tolist()}), not a number")
    else:
        try:
            derived = _texts(expression, source, height)
        except ValueError:  # arithmetic on the file's text: read its numbers
            derived = _numbers(expression, source, height, as_text=True)
    derived.values.index = frame.index
    derived.reasons.index = frame.index
    return derived


def _number_or_text(expression: Expression, source: pl.DataFrame | None, height: int) -> Derived:
    """Numbers where the expression computes one and every value it reads is a number
    (``"5+"`` keeps a household size text); the file's text otherwise."""
    try:
        numbers: Derived | None = _numbers(expression, source, height)
    except ValueError:
        numbers = None
    if (
        numbers is not None
        and numbers.is_numeric
        and not numbers.reasons.str.endswith(" is not a number").any()
    ):
        return numbers
    try:
        return _texts(expression, source, height)
    except ValueError:
        if numbers is None or not numbers.is_numeric:
            raise
        return numbers


def _numbers(
    expression: Expression, source: pl.DataFrame | None, height: int, *, as_text: bool = False
) -> Derived:
    """The expression with the columns of numbers read as numbers."""
    bad = np.zeros(height, bool)
    reasons = np.full(height, "", dtype=object)
    columns: list[pl.Expr] = []
    if source is not None:
        text = [c for c in source.columns if not source[c].dtype.is_numeric()]
        read = source.select(
            *(_text(c, source[c].dtype) for c in text),
            *(_number(c).alias(f"{c}\0number") for c in text),
        )
        for name in source.columns:
            if name not in text:
                columns.append(pl.col(name).cast(pl.Float64))
                continue
            number, value = read[f"{name}\0number"], read[name]
            if number.null_count() == height and value.null_count() < height:
                columns.append(_text(name, source[name].dtype))  # a column of text
                continue
            not_number = (value.is_not_null() & number.is_null()).to_numpy()
            reasons[not_number & ~bad] = f"{name} is not a number"
            bad |= not_number
            columns.append(pl.lit(number).alias(name))
    result = _run(expression, source, columns, height)
    if not result.dtype.is_numeric():
        return _derived(result.cast(pl.String), bad, reasons, is_numeric=False)
    values = result.cast(pl.Float64)
    finite = values.is_finite().fill_null(True).to_numpy()
    reasons[~finite & ~bad] = (
        "division by zero" if "/" in expression.text else "not a finite number"
    )
    bad |= ~finite
    if as_text:
        return _derived(
            values.to_frame().select(_number_text(pl.col(values.name), pl.Float64())).to_series(),
            bad,
            reasons,
            is_numeric=False,
        )
    return _derived(values, bad, reasons, is_numeric=True)


def _texts(expression: Expression, source: pl.DataFrame | None, height: int) -> Derived:
    """The expression with every column read as the file's text."""
    columns = [_text(c, source[c].dtype) for c in source.columns] if source is not None else []
    result = _run(expression, source, columns, height)
    if result.dtype.is_numeric():
        result = (
            result.to_frame().select(_number_text(pl.col(result.name), result.dtype)).to_series()
        )
    return _derived(
        result.cast(pl.String), np.zeros(height, bool), np.full(height, "", dtype=object), False
    )


def _run(
    expression: Expression, source: pl.DataFrame | None, columns: list[pl.Expr], height: int
) -> pl.Series:
    """Read the columns as ``columns`` say, then compute the expression, in one query."""
    frame = source if source is not None else pl.DataFrame({"_": np.zeros(height)})
    try:
        query = frame.lazy().select(columns or pl.col("_"))
        result = query.select(expression.expr.alias("value")).collect().to_series()
    except pl.exceptions.PolarsError as exc:
        raise ValueError(_first_line(exc)) from exc
    if not expression.columns and len(result) == 1 and height != 1:  # a constant
        result = result.extend_constant(result[0], height - 1)
    if len(result) != height:
        raise ValueError(f"gives {len(result)} values for {height} rows (an aggregate?)")
    return result


def _number(name: str) -> pl.Expr:
    """A text column as numbers; missing where the value is not a finite number."""
    number = pl.col(name).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    return pl.when(number.is_finite()).then(number)


def _text(name: str, dtype: pl.DataType) -> pl.Expr:
    """Trimmed text, missing where empty; numbers as digits, whole floats without ``.0``."""
    if dtype.is_numeric() or dtype == pl.Boolean:
        return _number_text(pl.col(name), dtype).alias(name)
    text = pl.col(name).cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text).alias(name)


def _number_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Numbers as digits, whole floats without ``.0``."""
    if not dtype.is_float():
        return column.cast(pl.String)
    whole = (column % 1 == 0) & (column.abs() < 2**53)
    return (
        pl.when(whole)
        .then(column.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(column.cast(pl.String))
    )


def _derived(values: pl.Series, bad: np.ndarray, reasons: np.ndarray, is_numeric: bool) -> Derived:
    if is_numeric:
        array = values.to_numpy().astype("float64", copy=True)
        array[bad] = np.nan
        return Derived(pd.Series(array), bad, pd.Series(reasons, dtype=object), True)
    text = pd.Series(values.to_numpy(), dtype=object)
    text[bad] = None
    return Derived(text, bad, pd.Series(reasons, dtype=object), False)


def inputs_shown(expression: Expression, frame: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    """``"QUANTITY=0, SALES_VALUE=2.5"`` for the rows in ``mask``: what a reject shows."""
    shown = pd.Series("", index=frame.index, dtype=object)
    if not expression.columns or not mask.any():
        return shown
    rows = pl.from_pandas(frame.loc[mask, list(expression.columns)])
    parts = [
        pl.lit(f"{name}=") + _text(name, rows[name].dtype).fill_null("") for name in rows.columns
    ]
    shown[mask] = rows.select(pl.concat_str(parts, separator=", ")).to_series().to_list()
    return shown


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


__all__ = [
    "Derived",
    "Expression",
    "as_polars",
    "evaluate",
    "inputs_shown",
    "parse_expression",
]
