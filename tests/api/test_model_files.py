"""Optional model files at API start: configured and missing is an error, default and
absent a warning, a directory an error; ``ApiConfig.resolved`` keeps what was configured."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support.cli import runner

from pricegraph.api.cli import app
from pricegraph.api.config import ApiConfig
from pricegraph.api.model_files import demand_version, optional_model_file
from pricegraph.api.services import open_services
from pricegraph.api.settings import Settings
from pricegraph.errors import ConfigError

ARGS = {"setting": "api.demand_path", "instead": "what-if answers UNAVAILABLE"}
ARGS["hint"] = "run `pricegraph fit-demand`"


def test_a_default_path_with_nothing_there_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "models" / "demand.json"
    with caplog.at_level(logging.WARNING, logger="pricegraph.api"):
        assert optional_model_file(path, is_configured=False, **ARGS) is False
    assert [r.getMessage() for r in caplog.records] == [
        f"no model at {path} (api.demand_path): what-if answers UNAVAILABLE; "
        "run `pricegraph fit-demand`"
    ]
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    assert optional_model_file(path, is_configured=False, **ARGS) is True
    assert optional_model_file(path, is_configured=True, **ARGS) is True


def test_a_configured_path_with_nothing_there_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    with pytest.raises(ConfigError) as caught:
        optional_model_file(path, is_configured=True, **ARGS)
    assert str(caught.value) == (
        f"api.demand_path={path}: no such file; run `pricegraph fit-demand`, "
        "or unset PRICEGRAPH_API__DEMAND_PATH"
    )


@pytest.mark.parametrize("is_configured", [False, True])
def test_a_directory_at_the_path_is_an_error(tmp_path: Path, is_configured: bool) -> None:
    path = tmp_path / "demand.json"
    path.mkdir()
    with pytest.raises(ConfigError, match=r"api\.demand_path=.*demand\.json: expected a model"):
        optional_model_file(path, is_configured=is_configured, **ARGS)


def test_resolving_keeps_what_was_configured(tmp_path: Path) -> None:
    default = ApiConfig().resolved(tmp_path)
    assert default.demand_path == tmp_path / "models" / "demand.json"
    assert not {"demand_path", "encoder_path"} & default.model_fields_set
    mine = ApiConfig(demand_path=Path("m/d.json")).resolved(tmp_path)
    assert mine.demand_path == tmp_path / "m" / "d.json"
    assert mine.model_fields_set == {"demand_path"}


def test_open_services_refuses_a_configured_missing_demand_model(env: Path) -> None:
    config = ApiConfig(demand_path=Path("models/mine.json"))
    with pytest.raises(ConfigError, match=r"^api\.demand_path=.*/var/models/mine\.json: no such"):
        open_services(Settings(), config)


def test_open_services_without_models_warns_and_reports_none(
    env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        services = open_services(Settings())
    try:
        assert services.models == {
            "policy": "list-price",
            "encoder": "none",
            "demand": "none",
            "guardrails": "settings",
        }
    finally:
        services.close()
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "api.encoder_path" in messages and "recommendations answer UNAVAILABLE" in messages
    assert "api.demand_path" in messages and "what-if answers UNAVAILABLE" in messages
    assert "quotes use list prices" in messages
    assert demand_version(None) == "none"


def test_serve_with_a_configured_missing_model_exits_2_in_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICEGRAPH_API__ENCODER_PATH", "models/encoder/mine.pt")
    result = runner.invoke(app, ["serve", "--port", "1"])  # fails before binding
    assert result.exit_code == 2, result.output
    path = env / "var" / "models" / "encoder" / "mine.pt"
    assert result.stderr == (
        f"error: api.encoder_path={path}: no such file; run `pricegraph train-gnn`, "
        "or unset PRICEGRAPH_API__ENCODER_PATH\n"
    )
