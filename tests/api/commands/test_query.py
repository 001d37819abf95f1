"""``pricegraph query --param``: values are strings unless typed, the same on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_cli as _run
from support.cli import runner

from pricegraph.api.cli import app
from pricegraph.api.commands.query import parse_param
from pricegraph.errors import ConfigError


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("id=17850", ("id", "17850")),
        ("id=", ("id", "")),
        ("q=a=b", ("q", "a=b")),
        ("flag=true", ("flag", "true")),
        ("id:str=17850", ("id", "17850")),
        ("n:int=10", ("n", 10)),
        ("n:int=-3", ("n", -3)),
        ("p:float=9.5", ("p", 9.5)),
        ("b:bool=true", ("b", True)),
        ("b:bool=False", ("b", False)),
        ("xs:json=[1, 2]", ("xs", [1, 2])),
        ('m:json={"a": null}', ("m", {"a": None})),
        ("z:json=null", ("z", None)),
    ],
)
def test_values_are_strings_unless_typed(option: str, expected: tuple[str, object]) -> None:
    name, value = parse_param(option)
    assert (name, value) == expected and type(value) is type(expected[1])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("id", "expected NAME=VALUE or NAME:TYPE=VALUE"),
        ("=3", "expected NAME=VALUE"),
        ("a b=3", "expected NAME=VALUE"),
        ("n:long=3", "TYPE must be one of ['str', 'int', 'float', 'bool', 'json'], got 'long'"),
        ("n:int=1.5", "expected an integer, got '1.5'"),
        ("p:float=abc", "expected a number, got 'abc'"),
        ("b:bool=yes", "expected true or false, got 'yes'"),
        ("xs:json=[1,", "expected JSON, got '[1,'"),
    ],
)
def test_malformed_params_name_the_option(option: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"--param") as info:
        parse_param(option)
    assert message in str(info.value) and repr(option) in str(info.value)


def test_a_numeric_looking_key_matches_the_string_key(env: Path) -> None:
    _run("load", _customers(env), "--kind", "customers")
    out = _run("query", "MATCH (c:Customer {id: $id}) RETURN c.id AS id", "--param", "id=17850")
    assert "17850" in out
    result = runner.invoke(app, ["query", "RETURN $n + 1 AS m", "--param", "n:int=41"])
    assert result.exit_code == 0 and "42" in result.output


def _customers(env: Path) -> str:
    path = env / "customers.csv"
    path.write_text("customer_id,country\n17850,GB\n12345,FR\n", encoding="utf-8")
    return str(path)
