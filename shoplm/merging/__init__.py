"""Merging LoRA adapters into the base: weighted ensemble, wise-ft α, TIES and DARE-TIES (seed 003 §4.3-4.4).

``shoplm.params.merging.MergeSpec`` says what to merge, ``MERGE_METHODS`` how, ``MergeWorkspace`` holds
the loaded base and adapters and merges in place (cheap to repeat), ``merge_to_folder`` writes one merge
as safetensors. ``shoplm.merging.search`` picks a spec on a validation set. Names are exported lazily.
"""

from shoplm.lazy import lazy_getattr

_EXPORTS = {"MERGE_METHODS": "methods", "MergeMethod": "methods", "MergeWorkspace": "workspace",
            "folder_size_bytes": "workspace", "merge_to_folder": "workspace"}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
