"""Rådgiver: chat_app."""

import ingest as _ingest  # noqa: F401  (telemetry and hub access off before any import)
