"""The one timer the benchmarks share: best of a few means, after a warm-up.

The machine these run on is shared and noisy; the best of ``repeats`` means over ``calls``
calls is the least disturbed estimate of what a call costs (the minimum is what the code
can do, the noise only adds). ``sync`` waits for asynchronous work (JAX dispatch) before
the clock is read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_time(call: Callable[[int], Any], calls: int, repeats: int = 3, warmup: int = 2,
              sync: Callable[[Any], Any] = lambda out: out) -> float:
    """Seconds per call of ``call(i)``, ``i`` counting every call from 0 (warm-up included),
    best of ``repeats`` means over ``calls`` calls; ``sync`` is applied to the last output
    of each timed block (and of the warm-up) before the clock is read."""
    if calls < 1 or repeats < 1 or warmup < 0:
        raise ValueError(f"need calls >= 1, repeats >= 1, warmup >= 0; got {calls}, "
                         f"{repeats}, {warmup}")
    i = 0
    out = None
    for _ in range(warmup):
        out = call(i)
        i += 1
    sync(out)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            out = call(i)
            i += 1
        sync(out)
        best = min(best, (time.perf_counter() - t) / calls)
    return best
