"""Base models named by real profiles: resolve a local folder or a Hub id, and record what was used.

Nothing is downloaded unless the caller passes ``allow_download=True`` (a profile's explicit choice):
a Hub id is looked up in the local Hugging Face cache only.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from shoplm.errors import UserError

BASE_RECORD_FILE = "base_model.json"
DEFAULT_STAGE_DIR = Path("models/base")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
RECORD_KEYS = ("model_type", "architectures", "hidden_size", "intermediate_size", "num_hidden_layers",
               "num_attention_heads", "num_key_value_heads", "vocab_size", "max_position_embeddings",
               "tie_word_embeddings")


class BaseModelNotFound(UserError, FileNotFoundError):
    """The base model named in a profile is not available locally (the message says what to do)."""


def _looks_like_hub_id(name: str) -> bool:
    return bool(HUB_ID.match(name)) and not name.startswith((".", "~"))


def _check_model_dir(path: Path, name: str) -> Path:
    if not path.is_dir():
        raise BaseModelNotFound(f"base model {name!r}: {path} is not a directory")
    if not (path / "config.json").is_file():
        raise BaseModelNotFound(
            f"base model {name!r}: {path} has no config.json, so it is not a Hugging Face model folder. "
            "Point the profile at a folder written by save_pretrained (or a Hub id such as Qwen/Qwen2-7B-Instruct), "
            "or build the tiny model with `python -m tasks.base`."
        )
    # transformers picks the architecture by model_type; without it every later stage fails, and the
    # record would hold nulls. Checked here so stage base fails instead.
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaseModelNotFound(f"base model {name!r}: {path / 'config.json'} is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or not isinstance(config.get("model_type"), str) or not config["model_type"]:
        raise BaseModelNotFound(
            f"base model {name!r}: {path / 'config.json'} has no model_type, so it does not describe a model. "
            "Point the profile at a folder written by save_pretrained."
        )
    return path


def resolve_base_model(
    model_id_or_path: str,
    allow_download: bool = False,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
) -> Path:
    """The local folder holding ``model_id_or_path`` (it contains ``config.json``).

    - An existing path (or one that does not look like ``org/name``) must be a model folder.
    - A Hub id ``org/name`` is taken from the local Hugging Face cache (``cache_dir``, default
      ``HF_HUB_CACHE``); when absent it fails with the download command, unless ``allow_download``.
    """
    name = str(model_id_or_path).strip()
    local = Path(name).expanduser()
    if local.exists() or not _looks_like_hub_id(name):
        if not local.exists():
            raise BaseModelNotFound(
                f"base model {name!r}: no such directory ({local.resolve()}). Give an existing model folder, "
                "a Hub id like Qwen/Qwen2-7B-Instruct, or build the tiny model with `python -m tasks.base`."
            )
        return _check_model_dir(local, name)

    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot = snapshot_download(name, revision=revision, cache_dir=cache_dir, local_files_only=not allow_download)
    except LocalEntryNotFoundError as err:
        cache = cache_dir or constants.HF_HUB_CACHE
        if allow_download:
            hint = "downloads are allowed, but the Hub was not reachable (HF_HUB_OFFLINE set, or no network)"
        else:
            hint = "downloads are off (allow_download is false)"
        raise BaseModelNotFound(
            f"base model {name!r} is not in the local Hugging Face cache ({cache}); {hint}. Download it first "
            f"with `hf download {name}` (or `huggingface-cli download {name}`), point the profile at a local "
            "folder, or set allow_download: true in the profile."
        ) from err
    return _check_model_dir(Path(snapshot), name)


def describe_base_model(model_dir: Path, group_sizes: tuple[int, ...] = (64, 128), tensor_parallel: int = 1) -> dict:
    """Architecture facts from ``config.json`` and whether 4-bit group sizes divide the Linear inputs.

    With tensor parallelism, down_proj's input (the intermediate size) is split ``tensor_parallel`` ways
    and each shard must be divisible by the group size (Qwen2-72B: 29568 / 4 = 7392 is not a multiple
    of 128, hence the winning recipe's padding to 29696).
    """
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    facts = {key: config.get(key) for key in RECORD_KEYS}
    facts["dtype"] = config.get("dtype", config.get("torch_dtype"))
    hidden, intermediate = config.get("hidden_size"), config.get("intermediate_size")
    facts["tensor_parallel"] = tensor_parallel
    facts["group_size_divides"] = {
        str(g): isinstance(hidden, int) and isinstance(intermediate, int) and hidden % g == 0
        and intermediate % tensor_parallel == 0 and (intermediate // tensor_parallel) % g == 0
        for g in group_sizes
    }
    facts["config_sha256"] = hashlib.sha256((Path(model_dir) / "config.json").read_bytes()).hexdigest()
    return facts


def record_base_model(
    model_id_or_path: str,
    out_path: Path,
    allow_download: bool = False,
    group_sizes: tuple[int, ...] = (64, 128),
    tensor_parallel: int = 1,
) -> dict:
    """Resolve the base model and write a small JSON record of it (source, path, architecture) for DVC.

    Conventionally written to ``models/base/base_model.json`` (``BASE_RECORD_FILE``), which
    ``resolve_stage_model`` reads back.
    """
    model_dir = resolve_base_model(model_id_or_path, allow_download=allow_download)
    is_hub = not Path(str(model_id_or_path)).expanduser().exists()
    record = {
        "source": str(model_id_or_path),
        "kind": "hub" if is_hub else "local",
        "path": str(model_dir),
        "revision": model_dir.name if is_hub else None,
        **describe_base_model(model_dir, group_sizes, tensor_parallel),
    }
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return record


def resolve_stage_model(stage_dir: Path = DEFAULT_STAGE_DIR) -> Path:
    """The model folder that stage ``base`` produced in ``stage_dir`` (default ``models/base``).

    The tiny profile writes the model itself there; a real profile writes only ``base_model.json``
    (from ``record_base_model``), whose recorded path is used, or whose source is resolved again
    (offline) when that path is gone, e.g. on another machine with its own Hugging Face cache.
    """
    stage_dir = Path(stage_dir)
    if (stage_dir / "config.json").is_file():
        return stage_dir
    record_file = stage_dir / BASE_RECORD_FILE
    if not record_file.is_file():
        raise BaseModelNotFound(
            f"{stage_dir} holds neither a model (config.json) nor {BASE_RECORD_FILE}; "
            "run stage base first (`dvc repro base` or `python -m tasks.base`)."
        )
    record = json.loads(record_file.read_text(encoding="utf-8"))
    recorded = Path(record["path"])
    if (recorded / "config.json").is_file():
        return recorded
    return resolve_base_model(record["source"], revision=record.get("revision"))
