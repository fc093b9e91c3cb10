"""Turn off telemetry and hub access of every library before any of them is imported.

Imported by ``ingest/__init__.py``, the package every other package imports first, so the
settings are in place before chromadb, gradio, huggingface_hub or sentence-transformers load.
"""

from __future__ import annotations

import os

# Forced, not defaulted: sovereignty is a property of the program, not of the user's shell.
OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb
    "CHROMA_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "GRADIO_TELEMETRY_ENABLED": "False",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no "Loading weights" bars on the user's terminal
    "TRANSFORMERS_VERBOSITY": "error",
}


def apply(allow_hub_downloads: bool = False) -> None:
    """Set the offline/telemetry environment; hub downloads only when the user asked for them."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    if allow_hub_downloads:
        for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            os.environ[key] = "0"


apply()
