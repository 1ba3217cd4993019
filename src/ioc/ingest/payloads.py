"""What a device's MQTT payload says: a JSON object, one value, or a command's result."""

from __future__ import annotations

from typing import Any

import orjson

from ioc.ingest.service import Rejected


def decode(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise Rejected(f"not JSON: {exc}") from exc


def decode_value(payload: bytes) -> tuple[Any, bool]:
    """A single attribute's payload: JSON if it parses, else its text (as the IoT Agent)."""
    try:
        return orjson.loads(payload), False
    except orjson.JSONDecodeError:
        try:
            return payload.decode("utf-8").strip(), True
        except UnicodeDecodeError as exc:
            raise Rejected("the value is neither JSON nor UTF-8 text") from exc


def answer(result: Any) -> tuple[bool, str]:
    """A device's result: ``{"error": "…"}`` or text starting with ERROR is a failure."""
    if isinstance(result, dict) and "error" in result:
        return False, str(result["error"])
    info = result if isinstance(result, str) else orjson.dumps(result).decode()
    return not info.upper().startswith("ERROR"), info
