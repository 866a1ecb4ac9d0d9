"""glibc allocator settings for the replay's large per-bin arrays (Linux only; a no-op elsewhere).

A bin's arrays (hundreds of kB to tens of MB) are allocated and freed again every bin. By default
glibc serves blocks above its mmap threshold with a fresh ``mmap`` (and zeroes the pages on first
touch) each time; Dask's workers also set ``MALLOC_TRIM_THRESHOLD_=65536``, which pins that
threshold at 128 kB. Serving blocks up to 64 MB from the heap and trimming it only above 128 MB
free keeps those pages in the process: measured on the Japan sweep task (1.9M rows), 0.65 s ->
0.51 s in process and 0.84 s -> about 0.5 s on a Dask worker; peak RSS replaying 52M rows was
unchanged (415 MiB). A user's own ``MALLOC_TRIM_THRESHOLD_`` / ``MALLOC_MMAP_THRESHOLD_`` wins.
"""

from __future__ import annotations

import os
import sys

__all__ = ["tune_allocator", "ALLOCATOR_ENV"]

#: the same settings as environment variables (for worker processes started by netsim's sweeps)
ALLOCATOR_ENV = {"MALLOC_TRIM_THRESHOLD_": str(128 << 20), "MALLOC_MMAP_THRESHOLD_": str(64 << 20)}

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc malloc.h
_done = False


def tune_allocator() -> bool:
    """Apply :data:`ALLOCATOR_ENV` to this process through glibc's ``mallopt`` (once); True if applied."""
    global _done
    if _done:
        return False
    _done = True
    if not sys.platform.startswith("linux") or any(k in os.environ for k in ALLOCATOR_ENV):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):   # not glibc (e.g. musl)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(_M_MMAP_THRESHOLD, 64 << 20) == 1
    return bool(mallopt(_M_TRIM_THRESHOLD, 128 << 20) == 1 and ok)
