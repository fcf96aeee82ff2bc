"""What training under ``accelerate launch`` needs beyond what Trainer does by itself.

CPU processes (``configs/accelerate/cpu_ddp.yaml``: torchrun, gloo) are how the multi-process path is
run without GPUs, by the tests and on a laptop; they hit one bug of the installed stack, fixed here.

Resuming a CPU DDP run failed inside transformers (5.17) with ``RuntimeError: don't know how to
restore data location of torch.storage.UntypedStorage (tagged with cpu:0)``. accelerate names every
CPU rank's device ``cpu:0`` (device index = local rank modulo ``torch.cpu.device_count()``, which is
1), and Trainer, when ``world_size > 1``, loads ``optimizer.pt`` with ``map_location=args.device``.
torch's default CPU deserializer accepts the location ``"cpu"`` only, not ``"cpu:0"``.
:func:`accept_indexed_cpu_locations` registers a deserializer (torch's public
``torch.serialization.register_package``) that treats ``cpu:<n>`` as the CPU. It changes nothing
that loaded before: it is asked only after torch's own CPU deserializer declined.
"""

from __future__ import annotations

import re
from typing import Any

_INDEXED_CPU = re.compile(r"cpu:\d+")
#: After torch's CPU (10) and before its CUDA (20) deserializers; the priorities must be unique.
_PRIORITY = 15
_registered = False


def _no_tag(storage: Any) -> None:
    return None  # saving is unchanged: torch's own taggers name the location


def _indexed_cpu(storage: Any, location: str) -> Any:
    return storage if _INDEXED_CPU.fullmatch(location) else None  # already a CPU storage


def accept_indexed_cpu_locations() -> None:
    """Let ``torch.load(..., map_location=torch.device("cpu", n))`` work (idempotent)."""
    global _registered
    if _registered:
        return
    import torch.serialization

    torch.serialization.register_package(_PRIORITY, _no_tag, _indexed_cpu)
    _registered = True
