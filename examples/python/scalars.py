"""Python types of the schema's custom scalars, copied into the generated package.

``DateTime`` maps to ``datetime.datetime`` directly (pydantic parses ISO-8601).
"""

from typing import Any

Metadata = dict[str, str]
"""String-to-string map: at most 16 keys; keys at most 64 chars; values at most 512 chars."""

JSON = Any
"""Any JSON value (the raw body of a content part this gateway does not know yet)."""
