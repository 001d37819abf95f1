"""``pricegraph recommend`` refuses options that do not apply, before reading anything."""

from __future__ import annotations

from pathlib import Path

from support.cli import runner

from pricegraph.api.cli import app


def test_popularity_discount_with_text_is_refused_in_one_line(env: Path) -> None:
    result = runner.invoke(
        app, ["recommend", "--text", "black leather bag", "--popularity-discount", "1.5"]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --popularity-discount 1.5 applies ")
    assert "--customer and --product lists only, not to --text" in lines[0]
    # without it, --text goes on (and stops only for want of a trained encoder)
    result = runner.invoke(app, ["recommend", "--text", "black leather bag"])
    assert result.exit_code == 2 and "run 'pricegraph train-gnn' first" in result.output
