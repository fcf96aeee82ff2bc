"""Merging LoRA adapters into the base: weighted ensemble, wise-ft α, TIES and DARE-TIES (seed 003 §4.3-4.4).

``MergeSpec`` says what to merge, ``MERGE_METHODS`` how, ``MergeWorkspace`` holds the loaded base and
adapters and merges in place (cheap to repeat), ``merge_to_folder`` writes one merge as safetensors.
``shoplm.merging.search`` picks a spec on a validation set.
"""

from shoplm.merging.methods import MERGE_METHODS, MergeMethod
from shoplm.merging.spec import MergeSpec
from shoplm.merging.workspace import MergeWorkspace, folder_size_bytes, merge_to_folder

__all__ = ["MERGE_METHODS", "MergeMethod", "MergeSpec", "MergeWorkspace", "folder_size_bytes", "merge_to_folder"]
