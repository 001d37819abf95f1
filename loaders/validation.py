"""Row validation: parse raw values into canonical, typed columns, or say why not.

Validation is vectorised (no Python loop per row). Each rejected row gets one
record per broken rule with the file, line, field, value and reason, so a user
can fix the file; good rows are never dropped because of bad ones. Exact
duplicate rows are *skipped* (counted, not an error); rows that reuse a key with
different values are *rejected*.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl

from ..errors import DataValidationError
from ..graph._frames import isin
from ..graph.base import GraphStore
from ..outliers import OUTLIER_FACTOR, OutlierLines
from ..plain import plain_value
from ..protected import flagged_attributes, texts_with_demographics
from .derive import Derived, Expression, as_polars, evaluate, inputs_shown
from .formats import KINDS, FieldSpec
from .mapping import FileMapping
from .readers import LINE, check_mapped_columns, read_head, read_raw
from .value_rules import (
    DATE_RANGE,
    GROSS_AMOUNT_REASON,
    LINE_AMOUNT_REASON,
    NOT_UTF8,
    is_outside_dates,
    is_utf8,
    line_amount_masks,
    shown,
    text_rejects,
)

REJECT_COLUMNS = ["file", "line", "field", "value", "reason"]
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
"""Words read as ``true`` (after trimming, any case)."""
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})
"""Words read as ``false`` (after trimming, any case)."""
HEAD_ROWS = 1_000
"""Rows of each file :func:`check_computable` computes the expressions on first."""


class RefIndex:
    """Keys known per node label: the store's, plus those of files loaded earlier."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._keys: dict[str, set[str]] = {}

    def keys(self, label: str) -> set[str]:
        """Known keys of ``label`` (read from the store once)."""
        if label not in self._keys:
            self._keys[label] = self._store.existing_keys(label)
        return self._keys[label]

    def add(self, label: str, keys: pd.Series | list[str]) -> None:
        """Record keys that a load has just written."""
        self.keys(label).update(keys)


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one file.

    Attributes:
        frame: Good rows: canonical typed columns (times as naive UTC) and ``_line``.
        rejects: One record per broken rule: ``file, line, field, value, reason``.
        skipped: Rows left out on purpose (exact duplicates): ``line, reason``.
        notes: What the load report should say about the data besides counts
            (protected attributes, demographics in profile texts, outlier quantities).
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    skipped: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    @property
    def rejected_rows(self) -> int:
        """Number of distinct rejected rows."""
        return int(self.rejects["line"].nunique()) if len(self.rejects) else 0


class _Errors:
    def __init__(self, source: str, lines: np.ndarray) -> None:
        self.source, self.lines = source, lines
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        mask: np.ndarray,
        field: str,
        values: pd.Series,
        reason: str | pd.Series,
        lines: np.ndarray | None = None,
    ) -> None:
        if not mask.any():
            return
        lines = self.lines if lines is None else lines
        picked = values[mask].astype("object").where(values[mask].notna(), "")
        texts = [shown(value) for value in picked.to_numpy()]
        why = reason[mask].to_numpy() if isinstance(reason, pd.Series) else reason
        self.parts.append(
            pd.DataFrame(
                {
                    "file": self.source,
                    "line": lines[mask],
                    "field": field,
                    "value": np.array(texts, dtype=object),
                    "reason": why,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return empty_rejects()
        return pd.concat(self.parts, ignore_index=True).sort_values(
            ["line", "field"], kind="stable"
        )


def empty_rejects() -> pd.DataFrame:
    """A rejects frame without rows (``object`` columns)."""
    return pd.DataFrame(np.empty((0, len(REJECT_COLUMNS)), dtype=object), columns=REJECT_COLUMNS)


def _text(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip()
    return text.mask(text == "")


def _parse(spec: FieldSpec, raw: pd.Series, mapping: FileMapping) -> tuple[pd.Series, np.ndarray]:
    """Typed values and a mask of values present but unparseable."""
    if spec.type == "str":
        return _text(raw).astype(object).where(lambda s: s.notna(), None), np.zeros(len(raw), bool)
    if spec.type == "datetime":
        return _parse_datetime(raw, mapping)
    text = _text(raw) if raw.dtype == object or pd.api.types.is_string_dtype(raw) else raw
    present = text.notna().to_numpy()
    if spec.type == "bool":
        if pd.api.types.is_bool_dtype(text):
            return text.astype("boolean"), np.zeros(len(raw), bool)
        is_text = pd.api.types.is_string_dtype(text)
        lowered = (text if is_text else _text(text.astype(object))).str.lower()  # 1 -> "1"
        value = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        value[lowered.isin(TRUE_WORDS).fillna(False)] = True
        value[lowered.isin(FALSE_WORDS).fillna(False)] = False
        return value, present & value.isna().to_numpy()
    number = pd.to_numeric(text, errors="coerce")
    bad = present & number.isna().to_numpy()
    if spec.type == "int":
        with np.errstate(invalid="ignore"):  # infinities are not whole numbers either
            fraction = np.mod(number.fillna(0).to_numpy(float), 1)
        whole = number.notna().to_numpy() & (fraction != 0)
        return number.where(~whole).astype("Int64"), bad | whole
    return number.astype("float64"), bad


def _parse_datetime(raw: pd.Series, mapping: FileMapping) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed, present = raw, raw.notna().to_numpy()
    else:
        text = _text(raw)
        present = text.notna().to_numpy()
        fmt = mapping.datetime_format or "ISO8601"
        try:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        except (ValueError, TypeError):  # mixed offsets and naive times
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(
            mapping.timezone, ambiguous="NaT", nonexistent="shift_forward"
        )
    utc = parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return utc, present & utc.isna().to_numpy()


def _non_utf8(values: pd.Series) -> np.ndarray:
    """Mask of strings that do not encode as UTF-8; only ``object`` columns (API
    records, JSON lines) can hold them, Arrow-backed text cannot."""
    if values.dtype != object:
        return np.zeros(len(values), bool)
    return np.array([type(v) is str and not is_utf8(v) for v in values.to_numpy()], bool)


def describe_field(spec: FieldSpec) -> str:
    """What ``spec`` expects, as error messages say it: ``a number > 0``."""
    names = {
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "datetime": f"a date-time (ISO 8601) {DATE_RANGE}",
    }
    text = names.get(spec.type, "a value")
    if spec.min_value is not None and spec.max_value is not None:
        text += f" in {'(' if spec.is_strict else '['}{spec.min_value:g}, {spec.max_value:g}]"
    elif spec.min_value is not None:
        text += f" {'>' if spec.is_strict else '>='} {spec.min_value:g}"
    elif spec.max_value is not None:
        text += f" <= {spec.max_value:g}"
    return text


def is_out_of_range(spec: FieldSpec, number: np.ndarray) -> np.ndarray:
    """Mask of ``number`` outside ``spec``'s bounds (NaN is never out of range)."""
    with np.errstate(invalid="ignore"):
        low = np.zeros(len(number), bool)
        if spec.min_value is not None:
            low = number <= spec.min_value if spec.is_strict else number < spec.min_value
        if spec.max_value is not None:
            low |= number > spec.max_value
    return low


def validate(raw: pd.DataFrame, mapping: FileMapping, refs: RefIndex) -> Validated:
    """Turn a raw frame (see :func:`read_raw`) into canonical typed rows.

    Raises:
        DataValidationError: A required column is missing from the file altogether, or
            the mapping names a column the file does not have.
    """
    check_mapped_columns(mapping, raw.columns)
    kind = KINDS[mapping.kind]
    source = mapping.path.name
    lines = raw[LINE].to_numpy()
    errors = _Errors(source, lines)
    out = pd.DataFrame({LINE: lines}, index=raw.index)
    computed, not_computed = _computed(raw, mapping, errors)
    for spec in map(mapping.with_defaults, kind.fields):
        column = mapping.source_column(spec.name)
        if spec.name in computed:
            values = computed[spec.name]
        elif spec.name in mapping.constants:
            values = pd.Series(
                [mapping.constants[spec.name]] * len(raw), index=raw.index, dtype=object
            )
        elif column in raw.columns:
            values = raw[column]
        elif spec.is_required:
            raise DataValidationError(
                f"required column missing (looked for {column!r}; map it with "
                f"--map {spec.name}=COLUMN or [files.columns])",
                path=mapping.path,
                field=spec.name,
            )
        else:
            values = pd.Series([spec.default] * len(raw), index=raw.index, dtype=object)
        not_text = _non_utf8(values)
        if not_text.any():  # refused, then parsed as missing (pandas cannot hold them)
            errors.add(not_text, spec.name, values, NOT_UTF8)
            values = values.astype(object).where(~not_text, None)
        typed, bad = _parse(spec, values.astype(object) if spec.type == "str" else values, mapping)
        if spec.default is not None:
            typed = (
                typed.where(typed.notna(), spec.default)
                if spec.type != "bool"
                else typed.fillna(spec.default)
            )
        errors.add(bad, spec.name, values, f"expected {describe_field(spec)}")
        ok = typed.notna().to_numpy()
        if spec.is_required:
            unset = ~ok & ~bad & ~not_text & ~not_computed.get(spec.name, np.zeros(len(raw), bool))
            errors.add(unset, spec.name, values, "missing required value")
        if spec.min_value is not None or spec.max_value is not None:
            number = pd.to_numeric(typed, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            outside = is_out_of_range(spec, number)
            errors.add(ok & outside, spec.name, values, f"expected {describe_field(spec)}")
        if spec.type == "datetime":
            outside = ok & is_outside_dates(typed.to_numpy())
            errors.add(outside, spec.name, values, f"expected {describe_field(spec)}")
        for broken, reason in text_rejects(spec, typed) if spec.type == "str" else ():
            errors.add(broken, spec.name, values, reason)
        if spec.choices is not None:
            wrong = ok & ~typed.isin(spec.choices).to_numpy()
            errors.add(wrong, spec.name, values, f"expected one of {', '.join(spec.choices)}")
        out[spec.name] = typed
    _kind_rules(mapping.kind, out, errors, is_mapped_attributes=bool(mapping.attributes))
    out = _derive_keys(mapping.kind, out)
    bad_lines = set(errors.frame()["line"]) if errors.parts else set()
    is_ok = ~out[LINE].isin(bad_lines).to_numpy()
    _check_references(kind.fields, out, is_ok, errors, refs, key=kind.key)
    bad_lines = set(errors.frame()["line"]) if errors.parts else set()
    is_ok = ~out[LINE].isin(bad_lines).to_numpy()
    good = out[is_ok]
    good, skipped = _duplicates(good, kind.key or "_key", errors)
    notes = _notes(mapping, good)
    return Validated(
        good.reset_index(drop=True), errors.frame().reset_index(drop=True), skipped, notes
    )


def check_computable(mapping: FileMapping, head_rows: int = HEAD_ROWS) -> None:
    """Refuse a mapping whose expressions (``[files.derive]``, ``[files.attributes]``)
    cannot be computed on the file at all, before any file of a load is written.

    Every expression is computed on the file's first ``head_rows`` rows, as validation
    computes it. When one fails there, it is computed on the whole file, which decides
    (a column of text in the first rows may hold numbers further on): an aggregate,
    or text where every row needs a number, fails on both. An expression that computes
    on the first rows but not on the whole file (a column empty there that holds only
    text further on) is left to validation, which stops the load at that file.

    Raises:
        DataValidationError: The error :func:`validate` gives for the expression on the
            whole file (mapping entry, expression, why), and a file that cannot be read.
    """
    if not mapping.derived and not mapping.attributes:
        return
    head = read_head(mapping, head_rows)
    for columns in mapping.referenced_columns().values():
        for column in columns:  # a JSONL key first seen further on: missing in the head
            if column not in head.columns:
                head[column] = ""
    try:
        _computed(head, mapping, _Errors(mapping.path.name, head[LINE].to_numpy()))
    except DataValidationError:
        if len(head) < head_rows:  # the head is the whole file
            raise
        raw = read_raw(mapping)
        _computed(raw, mapping, _Errors(mapping.path.name, raw[LINE].to_numpy()))


def _computed(
    raw: pd.DataFrame, mapping: FileMapping, errors: _Errors
) -> tuple[dict[str, pd.Series], dict[str, np.ndarray]]:
    """The derived columns (``[files.derive]``) and attributes built from columns
    (``[files.attributes]``), as raw values, and the masks of rows that could not be
    computed (rejects naming the field, the inputs and why).

    Raises:
        DataValidationError: An expression cannot be computed on this file at all.
    """
    out: dict[str, pd.Series] = {}
    bad: dict[str, np.ndarray] = {}
    types = {spec.name: spec.type for spec in KINDS[mapping.kind].fields}
    expressions, attributes = mapping.expressions, mapping.attribute_expressions
    columns = as_polars(raw, [*expressions.values(), *attributes.values()])
    for name, expression in expressions.items():
        numeric = types[name] in ("float", "int")
        derived = _evaluate(expression, raw, columns, numeric, mapping, name)
        shown = inputs_shown(expression, raw, derived.bad)
        errors.add(derived.bad, name, shown, "cannot compute: " + derived.reasons)
        out[name], bad[name] = derived.values, derived.bad
    if mapping.attributes:
        values: dict[str, pd.Series] = {}
        for name, expression in attributes.items():
            entry = f"attributes.{name}"
            derived = _evaluate(expression, raw, columns, None, mapping, entry)
            shown = inputs_shown(expression, raw, derived.bad)
            errors.add(derived.bad, entry, shown, "cannot compute: " + derived.reasons)
            values[name] = derived.values if derived.is_numeric else _typed_text(derived.values)
        out["attributes"] = _attribute_values(mapping.kind, values, raw.index)
    return out, bad


def _evaluate(
    expression: Expression,
    raw: pd.DataFrame,
    columns: pl.DataFrame,
    numeric: bool | None,
    mapping: FileMapping,
    entry: str,
) -> Derived:
    try:
        return evaluate(expression, raw, numeric, columns=columns)
    except ValueError as exc:
        table, _, name = entry.rpartition(".")
        where = f"{mapping.source}: " if mapping.source else ""
        raise DataValidationError(
            f"{where}[files.{table or 'derive'}] {name} = {expression.text!r} "
            f"cannot be computed on this file: {exc}",
            path=mapping.path,
            field=name,
        ) from exc


def _typed_text(values: pd.Series) -> pd.Series:
    """Text values as numbers where every present value is one, else as they are."""
    present = values.notna()
    number = pd.to_numeric(values, errors="coerce")
    if present.any() and number[present].notna().all():
        return number.astype("float64")
    return values


def _attribute_values(kind: str, values: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """Per row: a JSON object (customers) or ``name=value; ...`` text (products)."""
    frame = pd.DataFrame(values, index=index)
    names = list(frame.columns)
    rows: list[str | None] = []
    for record in frame.itertuples(index=False, name=None):
        plain = {n: _attribute_value(v) for n, v in zip(names, record, strict=True)}
        items = {n: v for n, v in plain.items() if v is not None}
        if not items:
            rows.append(None)
        elif kind == "customers":
            rows.append(json.dumps(items, sort_keys=True, separators=(",", ":")))
        else:
            rows.append("; ".join(f"{n}={v}" for n, v in items.items()))
    return pd.Series(rows, index=index, dtype=object)


def _attribute_value(value: object) -> object:
    """:func:`~pricegraph.plain.plain_value` (``None`` for nulls), a whole number as an
    ``int`` (``size=3``, not ``size=3.0``)."""
    value = plain_value(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _customer_attributes(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A customers file's own ``attributes`` column: JSON objects, re-written compactly
    with sorted keys; a mask of values that are not JSON objects."""
    bad = np.zeros(len(values), bool)
    if values.isna().all():
        return values, bad
    out = values.astype(object).copy()
    for position, text in enumerate(values.to_numpy()):
        if text is None:
            continue
        try:
            parsed = json.loads(text)
        except (TypeError, ValueError):
            parsed = None
        if not isinstance(parsed, dict):
            bad[position] = True
            out.iloc[position] = None
        else:
            out.iloc[position] = json.dumps(parsed, sort_keys=True, separators=(",", ":"))
    return out, bad


def _notes(mapping: FileMapping, good: pd.DataFrame) -> tuple[str, ...]:
    """Protected attributes and demographic profile texts among the loaded customers;
    outlier quantities among the loaded purchases."""
    if mapping.kind == "events" and not good.empty:
        return _outlier_notes(mapping, good)
    if mapping.kind != "customers" or good.empty:
        return ()
    notes = []
    names: set[str] = set()
    for text in good["attributes"].dropna():
        names.update(json.loads(text))
    flagged = flagged_attributes(sorted(names))
    if flagged:
        listed = ", ".join(_flag_text(name, what) for name, what in sorted(flagged.items()))
        notes.append(
            f"customer attributes that are protected, proxies or demographics: {listed}; "
            "they are stored, and no stage uses attributes as embedding text or pricing "
            "features"
        )
    texts = texts_with_demographics(good["profile_text"])
    if len(texts):
        terms = sorted({term for found in texts for term in found})
        texts_state = "profile text states" if len(texts) == 1 else "profile texts state"
        notes.append(
            f"{len(texts):,} {texts_state} demographics ({', '.join(terms[:8])}); "
            "pricegraph embed leaves them out of customer vectors unless "
            "PRICEGRAPH_EMBEDDINGS__ALLOW_DEMOGRAPHIC_TEXT=true"
        )
    return tuple(notes)


def _outlier_notes(mapping: FileMapping, good: pd.DataFrame) -> tuple[str, ...]:
    """How many purchase lines of the file have outlier quantities
    (:class:`~pricegraph.outliers.OutlierLines`, the norm of this file), with the largest."""
    lines = good[good["event_type"] == "purchase"]
    if lines.empty:
        return ()
    outliers = OutlierLines.of(lines[["product_id", "qty"]])
    count = int(outliers.is_outlier.sum())
    if not count:
        return ()
    found = lines[outliers.is_outlier]
    example = found.loc[found["qty"].astype(float).idxmax()]
    noun = "line has a quantity" if count == 1 else "lines have quantities"
    return (
        f"{count:,} purchase {noun} above {outliers.limit:,.0f} ({OUTLIER_FACTOR:g} times "
        "the median over this file's products of their median line quantity), e.g. "
        f"{mapping.path.name} line {int(example[LINE])}: product {example['product_id']}, "
        f"qty {int(example['qty']):,}; they are stored, and train-pricing --from-graph "
        "applies the same rule to every stored purchase",
    )


def _flag_text(name: str, what: str) -> str:
    """``age (protected)``, or ``AGE_DESC (age, protected)`` when the names differ."""
    attribute, _, kind = what.partition(" (")
    return f"{name} ({kind}" if attribute == name else f"{name} ({attribute}, {kind}"


def _kind_rules(
    kind: str, out: pd.DataFrame, errors: _Errors, *, is_mapped_attributes: bool = False
) -> None:
    if kind == "customers" and not is_mapped_attributes:
        normal, bad = _customer_attributes(out["attributes"])
        errors.add(bad, "attributes", out["attributes"], "expected a JSON object")
        out["attributes"] = normal
    if kind == "events":
        is_order = out["event_type"].isin(["purchase", "return"]).to_numpy()
        for name in ("order_id", "unit_price"):
            missing = is_order & out[name].isna().to_numpy()
            errors.add(missing, name, out[name], "required for purchase and return events")
        numbers = [
            pd.to_numeric(out[name]).to_numpy(dtype=float, na_value=np.nan)
            for name in ("qty", "unit_price", "discount")
        ]
        too_large, too_large_gross = line_amount_masks(*numbers)
        errors.add(too_large, "qty", out["qty"], LINE_AMOUNT_REASON)
        errors.add(too_large_gross, "discount", out["discount"], GROSS_AMOUNT_REASON)
    if kind == "prices":
        missing = (out["kind"] == "competitor").to_numpy() & out["competitor_id"].isna().to_numpy()
        errors.add(
            missing, "competitor_id", out["competitor_id"], "required when kind is competitor"
        )
    if "valid_to" in out.columns:
        inverted = (out["valid_to"] <= out["valid_from"]).fillna(False).to_numpy()
        errors.add(inverted, "valid_to", out["valid_to"], "must be after valid_from")


def _derive_keys(kind: str, out: pd.DataFrame) -> pd.DataFrame:
    if kind == "competitor_prices":
        out = out.assign(kind="competitor", price_point_id=None)
    if kind in ("prices", "competitor_prices"):
        stamp = out["valid_from"].dt.strftime("%Y%m%dT%H%M%S").fillna("")
        derived = (
            "PP-"
            + out["product_id"].fillna("").astype(str)
            + "-"
            + out["kind"].fillna("").astype(str)
            + "-"
            + out["competitor_id"].fillna("").astype(str)
            + "-"
            + stamp
        )
        out["price_point_id"] = out["price_point_id"].where(out["price_point_id"].notna(), derived)
    if kind == "events" and out["event_id"].isna().any():
        missing = out["event_id"].isna()
        out["event_id"] = out["event_id"].astype(object)
        out.loc[missing, "event_id"] = derived_event_ids(out[missing])
    if kind == "competitor_prices":
        out["_key"] = out["price_point_id"]
    return out


EVENT_ID_COLUMNS = (
    "event_type",
    "customer_id",
    "product_id",
    "ts",
    "order_id",
)
"""What identifies an event line when a row has no ``event_id``: who did what to which
product, when, in which order. Values a user may correct (``qty``, ``unit_price``,
``currency``) are left out, so a corrected file re-loaded updates its events."""


def derived_event_ids(events: pd.DataFrame) -> list[str]:
    """``ev-<16 hex>`` per row of typed ``events``: a hash of :data:`EVENT_ID_COLUMNS` and
    the line's position among the lines of that key (its line number within the order).

    The position counts distinct lines in the order given: the first line of a product
    in an order is 0, a second line of the same product (other quantity or price) is 1,
    and so on; a line repeated with identical values gets the id of its first copy (and
    is skipped as an exact duplicate). The same file sent again gets the same ids, and
    so does a file whose quantities or prices were corrected in place.
    """
    key = list(EVENT_ID_COLUMNS)
    content = [c for c in events.columns if not c.startswith("_") and c != "event_id"]
    keys = events[key].astype(str).reset_index(drop=True)
    key_code = pd.util.hash_pandas_object(keys, index=False).to_numpy()
    line_code = pd.util.hash_pandas_object(
        events[content].reset_index(drop=True), index=False
    ).to_numpy()  # equal for identical lines (within this frame only)
    first = ~pd.Series(line_code).duplicated().to_numpy()
    position_of_first = pd.Series(key_code[first]).groupby(key_code[first]).cumcount()
    by_line = pd.Series(position_of_first.to_numpy(), index=line_code[first])
    position = by_line.loc[line_code].to_numpy()
    hashed = pd.util.hash_pandas_object(keys.assign(_position=position), index=False).to_numpy()
    return [f"ev-{h:016x}" for h in hashed]


def _check_references(
    fields: tuple[FieldSpec, ...],
    out: pd.DataFrame,
    is_ok: np.ndarray,
    errors: _Errors,
    refs: RefIndex,
    key: str | None,
) -> None:
    for spec in fields:
        if spec.references is None:
            continue
        known = refs.keys(spec.references)
        if spec.references == "Category" and key == "category_id":
            known = known | set(out.loc[is_ok, "category_id"])  # parents in the same file
        values = out[spec.name]
        unknown = is_ok & values.notna().to_numpy() & ~isin(values, known)
        errors.add(unknown, spec.name, values, f"unknown {spec.references} id")


def _duplicates(good: pd.DataFrame, key: str, errors: _Errors) -> tuple[pd.DataFrame, pd.DataFrame]:
    if key not in good.columns:
        return good, pd.DataFrame(
            {"line": pd.Series(dtype="int64"), "reason": pd.Series(dtype=object)}
        )
    content = [c for c in good.columns if c != LINE]
    exact = good.duplicated(subset=content, keep="first").to_numpy()
    first_line = good.groupby(content, dropna=False, sort=False)[LINE].transform("first")
    skipped = pd.DataFrame(
        {
            "line": good.loc[exact, LINE].to_numpy(),
            "reason": "exact duplicate of line " + first_line[exact].astype(str).to_numpy(),
        }
    )
    kept = good[~exact]
    clash = kept.duplicated(subset=[key], keep="first").to_numpy()
    if clash.any():
        first_of_key = kept.groupby(key, sort=False)[LINE].transform("first")
        reason = "duplicate " + key + ", first at line " + first_of_key.astype(str)
        errors.add(clash, key, kept[key], reason, lines=kept[LINE].to_numpy())
    return kept[~clash], skipped


MAX_QUOTED_CHARS = 40
"""Longest prefix of a bad value a message quotes (the rejects file keeps it whole)."""


def rejects_message(rejects: pd.DataFrame, limit: int = 5) -> list[str]:
    """The first rejects as sentences: ``file row N, field "f": reason, got "v"``, a long
    value cut to its first :data:`MAX_QUOTED_CHARS` characters (an ellipsis ends it)."""
    lines = []
    for rec in rejects.head(limit).to_dict("records"):
        value = str(rec["value"])
        if len(value) > MAX_QUOTED_CHARS:
            value = value[: MAX_QUOTED_CHARS - 1] + "\u2026"
        lines.append(
            f'{rec["file"]} row {rec["line"]}, field "{rec["field"]}": '
            f'{rec["reason"]}, got "{value}"'
        )
    return lines


__all__ = [
    "EVENT_ID_COLUMNS",
    "FALSE_WORDS",
    "HEAD_ROWS",
    "MAX_QUOTED_CHARS",
    "REJECT_COLUMNS",
    "TRUE_WORDS",
    "RefIndex",
    "Validated",
    "check_computable",
    "derived_event_ids",
    "describe_field",
    "empty_rejects",
    "is_out_of_range",
    "rejects_message",
    "validate",
]
