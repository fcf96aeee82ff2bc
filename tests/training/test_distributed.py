"""Stage ``train`` under ``accelerate launch`` with 2 CPU processes (configs/accelerate/cpu_ddp.yaml: torchrun,
gloo on 127.0.0.1, a free port), killed after its first checkpoint and resumed, against one process with
the same global batch.

Real processes, no mocks: the launcher, its two ranks and the gloo group are started and stopped here.
Deselect with ``-m "not distributed"`` (the launches take about a minute on 2 idle cores).

Why the runs agree: the single process trains micro-batches of 2 rows, each rank of the DDP run 1 row;
accelerate hands rank r the r-th row of each batch of the same seeded order, the gradients are averaged
over the ranks and the loss is weighted by answer tokens across them (``average_tokens_across_devices``),
so both compute the same update up to the order of float additions. 4 steps x 2 rows use 8 of the
mixture's 11 packed rows: a step past the data would differ on purpose (accelerate pads an uneven last
batch with rows from the start so that every rank gets one; one process trains the odd row alone).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
import yaml

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
CPU_DDP = REPO_ROOT / "configs" / "accelerate" / "cpu_ddp.yaml"
CPU_FSDP = REPO_ROOT / "configs" / "accelerate" / "cpu_fsdp.yaml"
LAUNCH_TIMEOUT_S = 600
#: Largest difference allowed between a LoRA weight trained by 2 processes and by one (both fp32).
WEIGHT_ATOL = 1e-5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_command(adapter: str, config: Path = CPU_DDP) -> list[str]:
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
            "--num_processes", "2", "--main_process_port", str(free_port()),
            "-m", "tasks.train", adapter, "--no-progress"]


def launch_env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MASTER_ADDR": "127.0.0.1", "OMP_NUM_THREADS": "1",
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}


def kill_tree(process: subprocess.Popen) -> list[int]:
    """SIGKILL the launcher and every process under it (torchrun starts each rank in its own session,
    so killing the launcher's process group alone would leave the ranks training)."""
    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    for proc in tree:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(tree, timeout=30)
    process.wait(timeout=30)
    return [proc.pid for proc in tree]


def run_until(root: Path, adapter: str, marker: Path, log: Path) -> list[int]:
    """Launch the 2-process run and kill it (all of it) once ``marker`` exists; returns the pids killed."""
    with log.open("w") as out:
        process = subprocess.Popen(launch_command(adapter), cwd=root, env=launch_env(root), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + LAUNCH_TIMEOUT_S
        while not marker.exists():
            assert process.poll() is None, f"finished before {marker.name}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {marker} after {LAUNCH_TIMEOUT_S} s"
            time.sleep(0.05)
    finally:
        killed = kill_tree(process)
    return killed


def run_to_end(root: Path, adapter: str, log: Path, config: Path = CPU_DDP) -> None:
    with log.open("w") as out:
        process = subprocess.Popen(launch_command(adapter, config), cwd=root, env=launch_env(root), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        code = process.wait(timeout=LAUNCH_TIMEOUT_S)
    finally:
        kill_tree(process)  # only does something after a timeout
    assert code == 0, log.read_text()[-4000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_base_dir, mixtures, tiny_hp, write_mixture):
    """Adapter ``ddp`` (2 processes x 1 row, killed after step 2, resumed), ``fsdp`` (the same, sharded,
    not killed) and ``single`` (1 process x 2 rows), same seed, data and schedule."""
    import tasks.train

    root = tmp_path_factory.mktemp("distributed")
    defaults = tiny_hp(max_steps=4, save_steps=2, save_total_limit=1, lora={"r": 4, "alpha": 8, "dropout": 0.0})
    params = {"train": {"defaults": defaults.model_dump(mode="json"), "adapters": {
        "ddp": {"mixture": "mix", "seed": 7, "overrides": {"micro_batch_size": 1}},
        "fsdp": {"mixture": "mix", "seed": 7, "overrides": {"micro_batch_size": 1}},
        "single": {"mixture": "mix", "seed": 7, "overrides": {"micro_batch_size": 2}}}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    write_mixture(root, "mix", mixtures["v7"] + mixtures["v8"])
    (root / "models").mkdir()
    (root / "models" / "base").symlink_to(tiny_base_dir, target_is_directory=True)

    checkpoints = root / "models" / "checkpoints" / "ddp"
    killed = run_until(root, "ddp", checkpoints / "checkpoint-2" / "trainer_state.json", root / "killed.log")
    left_after_kill = sorted(path.name for path in checkpoints.iterdir())
    run_to_end(root, "ddp", root / "resumed.log")
    run_to_end(root, "fsdp", root / "fsdp.log", CPU_FSDP)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        mp.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
        assert tasks.train.main(["single", "--no-progress"]) == 0
    return SimpleNamespace(root=root, killed=killed, left_after_kill=left_after_kill,
                           resumed_log=(root / "resumed.log").read_text())


def adapter_weights(root: Path, name: str) -> dict:
    from safetensors.torch import load_file

    return load_file(root / "models" / "adapters" / name / "adapter_model.safetensors")


def summary(root: Path, name: str) -> dict:
    return json.loads((root / "models" / "adapters" / name / "train_summary.json").read_text())


def test_killed_ddp_run_resumes_from_its_checkpoint_and_finishes(runs):
    assert len(runs.killed) >= 3  # the launcher and its two ranks
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in runs.killed)
    assert "checkpoint-2" in runs.left_after_kill
    assert runs.resumed_log.count("resuming from models/checkpoints/ddp/checkpoint-2 (step 2)") == 2  # each rank
    metrics = json.loads((runs.root / "metrics" / "train" / "ddp.json").read_text())
    assert metrics["global_step"] == 4
    assert not (runs.root / "models" / "checkpoints" / "ddp").exists()  # released once finished
    ddp = summary(runs.root, "ddp")
    assert [step for step, _ in ddp["losses"]] == [1, 2, 3, 4]  # the curve includes the killed part


@pytest.mark.parametrize("engine", ["ddp", "fsdp"])
def test_adapter_equals_one_process_with_the_same_global_batch(runs, engine):
    log = (runs.root / {"ddp": "resumed.log", "fsdp": "fsdp.log"}[engine]).read_text()
    assert f'"launch": "{engine}"' in log and '"world_size": 2' in log  # rank 0's run facts
    ddp, single = adapter_weights(runs.root, engine), adapter_weights(runs.root, "single")
    assert ddp.keys() == single.keys() and ddp
    worst = max(float((ddp[key] - single[key]).abs().max()) for key in ddp)
    moved = max(float(single[key].abs().max()) for key in single if "lora_B" in key)  # B starts at zero
    assert moved > 1e-3, "the adapters did not train"
    print(f"{engine} vs one process: largest LoRA weight difference {worst:.2e} (largest lora_B weight {moved:.2e})")
    assert worst < WEIGHT_ATOL, f"largest weight difference {worst:.2e}"
    losses = [dict(summary(runs.root, name)["losses"]) for name in (engine, "single")]
    assert losses[0].keys() == losses[1].keys() == {1, 2, 3, 4}
    assert all(abs(losses[0][step] - losses[1][step]) < 1e-4 for step in losses[0]), losses
