"""Adapter for the UCI Online Retail data set (dataset 352, a UK gift retailer).

Columns: ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
CustomerID, Country``. How its quirks map onto the graph:

* Invoices starting with ``C`` are cancellations: their lines become ``return``
  events (quantity made positive) of the same customer.
* Stock codes that are not five digits plus optional letters (``POST``, ``DOT``,
  ``M``, ``BANK CHARGES``, ``AMAZONFEE``, gift vouchers, ...) are fees and
  adjustments, not products: skipped, counted by reason.
* ``A`` invoices (bad-debt adjustments), negative quantities outside
  cancellations (stock adjustments) and zero prices are skipped the same way.
* Rows without ``CustomerID`` are kept as anonymous sales (they still count for
  demand): each such invoice becomes a guest customer ``anon-<InvoiceNo>`` with
  ``is_anonymous = true``.
* Exact duplicate rows are skipped; lines of one invoice that repeat a stock code
  with other values get ids ``<InvoiceNo>:<StockCode>:<n>``.
* Transaction prices become ``PricePoint`` nodes of kind ``transaction``, one per
  product, calendar month and unit price, valid from the first to the end of the
  day of the last sale at that price in that month.
* ``InvoiceDate`` is UK local time and is stored as UTC. Prices are GBP.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from rich.progress import Progress

from ..errors import DataValidationError
from ..graph.base import GraphStore
from .mapping import FileMapping
from .readers import LINE
from .service import FileReport, LoadReport, load_frame, new_progress
from .validation import RefIndex

COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
PRODUCT_CODE = r"^\d{5}[A-Za-z]*$"
CURRENCY = "GBP"
TIMEZONE = "Europe/London"


def read_online_retail(path: Path) -> pd.DataFrame:
    """The file as strings with its ``_line`` numbers (header = line 1)."""
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in COLUMNS}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataValidationError(f"cannot read as CSV: {exc}", path=path) from exc
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise DataValidationError(f"not an Online Retail file: no columns {missing}", path=path)
    frame = table.to_pandas()
    frame[LINE] = np.arange(2, len(frame) + 2, dtype=np.int64)
    return frame


def _skip_reasons(raw: pd.DataFrame) -> pd.Series:
    """Why each row is left out ('' for rows that are kept), first rule that applies."""
    invoice, code = raw["InvoiceNo"].str.strip(), raw["StockCode"].str.strip()
    quantity = pd.to_numeric(raw["Quantity"], errors="coerce")
    price = pd.to_numeric(raw["UnitPrice"], errors="coerce")
    is_cancel = invoice.str.startswith("C")
    reason = pd.Series("", index=raw.index, dtype=object)
    rules = [
        (invoice.str.startswith("A"), "bad-debt adjustment (A invoice)"),
        ((code != "") & ~code.str.match(PRODUCT_CODE), "not a product (fee, postage or manual)"),
        (~is_cancel & (quantity < 0), "stock adjustment (negative quantity, not a cancellation)"),
        (price == 0, "zero unit price (free item or adjustment)"),
        (raw.duplicated(subset=COLUMNS, keep="first"), "exact duplicate row"),
    ]
    for mask, why in reversed(rules):  # the first rule in the list wins
        reason = reason.mask(mask.fillna(False).to_numpy(), why)
    return reason


def to_canonical(raw: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Canonical raw frames per kind (with source ``_line``), and the skip reasons."""
    reason = _skip_reasons(raw)
    kept = raw[reason == ""]
    invoice = kept["InvoiceNo"].str.strip()
    code = kept["StockCode"].str.strip()
    customer = kept["CustomerID"].str.strip().str.replace(r"\.0$", "", regex=True)
    is_anonymous = customer == ""
    customer_id = customer.where(~is_anonymous, "anon-" + invoice)
    is_cancel = invoice.str.startswith("C")
    quantity = pd.to_numeric(kept["Quantity"], errors="coerce")
    price = pd.to_numeric(kept["UnitPrice"], errors="coerce")
    local = pd.to_datetime(kept["InvoiceDate"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    ts = local.dt.tz_localize(TIMEZONE, ambiguous=False, nonexistent="shift_forward")
    ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    # the n-th line of an invoice with this stock code
    occurrence = kept.groupby([invoice, code], sort=False).cumcount()
    events = pd.DataFrame(
        {
            LINE: kept[LINE],
            "event_id": invoice + ":" + code + ":" + occurrence.astype(str),
            "event_type": np.where(is_cancel, "return", "purchase"),
            "customer_id": customer_id,
            "product_id": code,
            "ts": ts.where(local.notna(), kept["InvoiceDate"]),
            "order_id": invoice,
            "qty": quantity.abs().where(quantity.notna(), kept["Quantity"]),
            "unit_price": price.where(price.notna(), kept["UnitPrice"]),
            "currency": CURRENCY,
        }
    )
    is_sale = (~is_cancel & (price > 0) & (quantity > 0) & local.notna()).to_numpy()
    sales = events[is_sale].assign(ts=ts[is_sale].to_numpy(), unit_price=price[is_sale].to_numpy())
    description = kept["Description"].str.strip()
    products = _products(code, description, price, sales)
    # Registered customers come from every row (some only ever paid postage or fees);
    # guests only from the invoices that are kept.
    registered = raw["CustomerID"].str.strip().str.replace(r"\.0$", "", regex=True)
    everyone = pd.concat([raw[registered != ""], kept[is_anonymous]])
    everyone_id = pd.concat([registered[registered != ""], customer_id[is_anonymous]])
    customers = _customers(everyone, everyone_id, everyone_id.str.startswith("anon-"))
    prices = _transaction_prices(sales)
    return {
        "products": products,
        "customers": customers,
        "prices": prices,
        "events": events,
    }, reason


def _mode_by(keys: pd.Series, values: pd.Series) -> pd.Series:
    """The most frequent non-empty value per key (ties: the smallest)."""
    frame = pd.DataFrame({"k": keys, "v": values})
    frame = frame[frame["v"].notna() & (frame["v"] != "")]
    counts = frame.groupby(["k", "v"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["k", "n"], ascending=[True, False], kind="stable")
    return counts.drop_duplicates("k").set_index("k")["v"]


def _products(
    code: pd.Series, description: pd.Series, price: pd.Series, sales: pd.DataFrame
) -> pd.DataFrame:
    first_line = pd.Series(code.index, index=code.index).groupby(code).first()
    lines = code.to_frame("c").assign(line=code.index).groupby("c")["line"].first()
    del first_line
    names = _mode_by(code, description)
    list_price = _mode_by(sales["product_id"], sales["unit_price"].astype(float))
    ids = pd.Index(sorted(code.unique()))
    return pd.DataFrame(
        {
            LINE: lines.reindex(ids).to_numpy(),
            "product_id": ids,
            "name": names.reindex(ids).fillna("Unnamed product " + ids.to_series()).to_numpy(),
            "list_price": list_price.reindex(ids).to_numpy(),
            "currency": CURRENCY,
        }
    )


def _customers(kept: pd.DataFrame, customer_id: pd.Series, is_anonymous: pd.Series) -> pd.DataFrame:
    country = _mode_by(customer_id, kept["Country"].str.strip())
    anonymous = is_anonymous.groupby(customer_id.to_numpy()).first()
    first = kept[LINE].groupby(customer_id.to_numpy()).first()
    ids = first.index
    return pd.DataFrame(
        {
            LINE: first.to_numpy(),
            "customer_id": ids,
            "country": country.reindex(ids).to_numpy(),
            "is_anonymous": anonymous.reindex(ids).map({True: "true", False: "false"}).to_numpy(),
        }
    )


def _transaction_prices(sales: pd.DataFrame) -> pd.DataFrame:
    month = sales["ts"].dt.to_period("M")
    grouped = sales.groupby([sales["product_id"], month, sales["unit_price"]], sort=True)
    agg = grouped.agg(line=(LINE, "first"), start=("ts", "min"), end=("ts", "max"))
    agg = agg.reset_index(names=["product_id", "month", "price"])
    return pd.DataFrame(
        {
            LINE: agg["line"].to_numpy(),
            "product_id": agg["product_id"],
            "price": agg["price"],
            "currency": CURRENCY,
            "kind": "transaction",
            "valid_from": agg["start"],
            "valid_to": agg["end"].dt.normalize() + pd.Timedelta(days=1),
            "source": "online_retail",
            "price_point_id": "PP-"
            + agg["product_id"]
            + "-transaction-"
            + agg["month"].astype(str)
            + "-"
            + agg["price"].map("{:.4f}".format),
        }
    )


def load_online_retail(
    store: GraphStore,
    path: str | Path,
    *,
    rejects_dir: Path,
    nrows: int | None = None,
    progress: Progress | None = None,
    chunk_rows: int = 1_000_000,
) -> LoadReport:
    """Load the Online Retail file into ``store``; see the module docstring.

    Args:
        store: The graph store.
        path: ``online_retail.csv`` or ``.csv.gz``.
        rejects_dir: Where ``<file>.<kind>.rejects.csv`` go.
        nrows: Only the first ``nrows`` data rows (for quick tries).
        progress: A rich progress display to add tasks to.
        chunk_rows: Rows per write transaction.

    Returns:
        One report per derived kind; the events report carries the source rows
        skipped and why.
    """
    path = Path(path)
    raw = read_online_retail(path)
    if nrows is not None:
        raw = raw.iloc[:nrows]
    frames, reasons = to_canonical(raw)
    skipped = reasons[reasons != ""].value_counts()
    refs = RefIndex(store)
    own = progress is None
    progress = progress or new_progress()
    reports: list[FileReport] = []
    with progress if own else contextlib.nullcontext():
        for kind in ("products", "customers", "prices", "events"):
            mapping = FileMapping(path, kind)
            report = load_frame(
                store,
                mapping,
                frames[kind],
                refs,
                rejects_dir / f"{path.name}.{kind}.rejects.csv",
                progress,
                chunk_rows,
            )
            reports.append(report)
    events = reports[-1]
    reports[-1] = FileReport(
        path=events.path,
        kind=events.kind,
        rows=len(raw),
        loaded=events.loaded,
        rejected=events.rejected,
        skipped=events.skipped + int(skipped.sum()),
        result=events.result,
        rejects_path=events.rejects_path,
        first_rejects=events.first_rejects,
        skipped_reasons={**{str(k): int(v) for k, v in skipped.items()}, **events.skipped_reasons},
    )
    return LoadReport(reports)


__all__ = ["COLUMNS", "load_online_retail", "read_online_retail", "to_canonical"]
