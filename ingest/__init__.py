"""Rådgiver ingest: files on disk -> Meeting records -> Chunks."""

import os as _os

from ingest import sovereign as _sovereign  # noqa: F401  (must run before any third-party import)

# numpy's OpenBLAS keeps its threads spinning after a product; on two cores they then take the CPU from
# the embedding engine's threads (a warm question at 50,000 passages, embedding then the exact dense
# product: p50/p95 17/30 ms with OpenBLAS's threads, 11/11 ms with one; measured). numpy's products
# here are one query against the passage vectors, so one thread is enough; a user's setting wins.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
