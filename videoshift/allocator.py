"""CPU memory allocation: keep freed tensor memory in the process, as CUDA's caching allocator does.

PyTorch's CPU tensors come from the C library's ``malloc``. glibc hands every block larger than
its mmap threshold (at most 32 MiB) straight back to the kernel when it is freed, so each new
activation of a video network (a ResNet-50 stage-1 feature map of 64 frames is 51 MiB) is mapped
afresh and page-faulted in 4 KiB at a time. A training step then spends about half its time in
page faults, and every extra tensor, such as a shift's output, costs far more than copying it.
Setting glibc's ``M_MMAP_MAX`` to 0 and its trim threshold very high makes freed blocks stay in the
heap for the next step to reuse; this is what preloading jemalloc or tcmalloc achieves, and the
usual advice for CPU training with PyTorch. Measured with ``videoshift bench models --train``.

The cost: the process keeps its peak heap instead of returning it between steps.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

# glibc <malloc.h> parameter numbers for mallopt().
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
# Largest trim threshold mallopt accepts (an int): in effect "never trim the heap".
NEVER_TRIM = 2**31 - 1


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") else None  # mallopt is glibc's (musl and macOS lack it)
    except OSError:
        return None


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse (no mmap of large blocks, no heap trimming).

    Process-wide and lasting; call it once at the start of a CPU training or benchmark run.
    Returns ``False``, changing nothing, where the C library is not glibc.
    """
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))
