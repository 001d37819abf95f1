"""Coded API errors: no server path and at most a short prefix of a bad value."""

from __future__ import annotations

import logging

import pytest

from pricegraph.api.errors import MAX_VALUE_CHARS, from_pricegraph, invalid, without_paths
from pricegraph.errors import GraphStoreError, GuardrailError, ModelError, RecordsError


def test_a_long_value_is_quoted_by_a_short_prefix() -> None:
    error = invalid("name", "expected at most 200 characters", "x" * 5000)
    assert len(error.extensions["value"]) == MAX_VALUE_CHARS
    assert error.extensions["value"].startswith("xxx") and error.extensions["value"][-1] == "\u2026"
    assert invalid("first", "expected 1 to 100", 7).extensions["value"] == 7


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (GraphStoreError("cannot open /var/lib/pricegraph/graph: locked"), "UNAVAILABLE"),
        (ModelError("cannot read pricing checkpoint /srv/models/hier-1: gone"), "UNAVAILABLE"),
        (GuardrailError("approval a1 of product 'P1' was already approved"), "INVALID_INPUT"),
        (RecordsError("approval queue /tmp/x/quotes.sqlite: disk I/O error"), "UNAVAILABLE"),
    ],
)
def test_store_and_model_failures_name_no_server_path(exc: Exception, code: str) -> None:
    error = from_pricegraph(exc)
    assert error.code.value == code
    assert not any(part in str(error) for part in ("/var", "/srv", "/tmp"))


def test_without_paths_keeps_ordinary_text() -> None:
    assert without_paths("at /a/b/c.json, row 3") == "at <path>, row 3"
    assert without_paths("pricing.guardrails.min_margin_pct: 1/2 of 10 %") == (
        "pricing.guardrails.min_margin_pct: 1/2 of 10 %"
    )


def test_expected_errors_are_logged_as_one_line_with_their_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from graphql import GraphQLError

    from pricegraph.api.errors import coded, mask_error
    from pricegraph.errors import NotFoundError

    error = GraphQLError("x", path=["product"], original_error=NotFoundError("product", "P9"))
    with caplog.at_level(logging.INFO, logger="pricegraph.api"):
        out = coded(error, mask_error)
    assert out.extensions["code"] == "NOT_FOUND"
    (record,) = caplog.records
    assert record.getMessage().startswith("NOT_FOUND at ['product']: product 'P9' not found")
    assert record.exc_info is None and "\n" not in record.getMessage()
