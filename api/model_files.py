"""Which optional model files the API loads at start, and the versions it reports.

The encoder checkpoint (recommendations) and the demand model (what-if) are optional:
a fresh install has neither. The rule, the same as for the pricing policy
(:func:`~pricegraph.pricing.quotes.factory.load_policy`), is no silent fallback:

- a path set in the settings that holds no readable file is an error at start that
  names the setting and the file;
- the default path with nothing there is a warning that says what is used instead;
- anything at a path that is not a readable file (a directory, say) is an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from ..errors import ConfigError
from ..pricing.demand.model import DemandModel

logger = logging.getLogger("pricegraph.api")


def optional_model_file(
    path: Path, *, setting: str, is_configured: bool, instead: str, hint: str
) -> bool:
    """Whether the model file at ``path`` is there to load.

    Args:
        path: The file, resolved against the data directory.
        setting: The setting that names it, e.g. ``api.demand_path``.
        is_configured: The path was set explicitly (not the default).
        instead: What is done without it, e.g. ``"what-if answers UNAVAILABLE"``.
        hint: How to make one, e.g. ``"run `pricegraph fit-demand`"``.

    Returns:
        ``True`` when ``path`` is a readable file; ``False`` (with a warning) when the
        default path holds nothing.

    Raises:
        ConfigError: ``path`` is configured but missing, or something unreadable is
            there; one line naming the setting and the file.
    """
    if path.is_file():
        if not os.access(path, os.R_OK):
            raise ConfigError(f"{setting}={path}: the file is not readable")
        return True
    if path.exists():
        raise ConfigError(f"{setting}={path}: expected a model file, found a directory")
    if is_configured:
        variable = "PRICEGRAPH_" + setting.upper().replace(".", "__")
        raise ConfigError(f"{setting}={path}: no such file; {hint}, or unset {variable}")
    logger.warning("no model at %s (%s): %s; %s", path, setting, instead, hint)
    return False


def demand_version(model: DemandModel | None) -> str:
    """``demand-<12 hex>`` of the model's content, or ``"none"``.

    The same model gives the same version whichever process loaded it, so a what-if
    result can be traced to the model that produced it.
    """
    if model is None:
        return "none"
    text = json.dumps(model.to_dict(), sort_keys=True)
    return "demand-" + hashlib.sha256(text.encode()).hexdigest()[:12]


__all__ = ["demand_version", "optional_model_file"]
