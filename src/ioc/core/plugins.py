"""Load an object named "package.module:attribute", as the router and demo-step registries do."""

from __future__ import annotations

import importlib
from typing import Any


def load_object(path: str) -> Any:
    """The attribute ``path`` names; a clear error when the module or attribute is missing."""
    module_name, _, attr = path.partition(":")
    if not attr:
        raise ValueError(f"{path!r} must look like 'package.module:attribute'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(f"{module_name} has no {attr!r} (from {path!r})") from None
