"""Process start-up of the project's commands: the cyclic garbage collector is paused while they start.

A stage or flow process spends its first seconds importing torch, transformers, sentence-transformers,
MLflow or Prefect and loading models: over a million container objects, none of them garbage. CPython
3.11's cyclic collector examines each new container at least once as it survives its young generations
(some 1,900 young and 10 full passes for those imports), so start-up runs 15-20 % slower with it on.
The tiny-model ``python -m tasks.evaluate sample``, alternating, 2 cores: 24.3, 26.1, 28.2 s with it on,
18.9, 22.4, 25.9 s paused; ``benchmarks/bench_startup.py`` prints the import-time ratio (1.21x).
Raising the thresholds does not help: the cost is the first look at each surviving object, however
seldom the passes run.

Reference counting frees memory as usual while the collector is paused; only objects in reference
cycles wait. So the pause is bounded in time: the collector is back on after ``GC_PAUSE_S`` seconds,
past the start-up of every tiny-model stage and of a real model's first load, and well before a long
training or evaluation loop has made much cyclic garbage.
"""

from __future__ import annotations

import gc
import threading

GC_PAUSE_S = 60.0


def pause_gc_while_starting(seconds: float = GC_PAUSE_S) -> None:
    """Turn the cyclic collector off now and back on after ``seconds`` (a daemon timer).

    Does nothing where the collector is already off (the caller, or a test, manages it).
    """
    if not gc.isenabled():
        return
    gc.disable()
    timer = threading.Timer(seconds, gc.enable)
    timer.daemon = True  # a process that ends sooner does not wait for it
    timer.start()

