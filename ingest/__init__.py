"""Rådgiver ingest: files on disk -> Meeting records -> Chunks."""

from ingest import sovereign as _sovereign  # noqa: F401  (must run before any third-party import)
