"""Training-question builders (seed 003 Table 7), decontamination and training mixtures.

:data:`BUILDERS` lists every Table 7 row by name without importing a builder (its lazy name list);
reading a builder imports every builder module:

=====================  ==============================================================================
module                 rows
=====================  ==============================================================================
``esci``               5, 27, 30, 34, 35 (ESCI ranking and retrieval)
``esci_choice``        8, 29, 32, 33 (ESCI multiple choice)
``reviews``            Amazon Reviews 2023 rows
``amazon_m2``          Amazon-M2 rows
``ecinstruct``         NingLab/ECInstruct rows
``general``            MMLU, Alpaca
``llm_rows``           rows that need an LLM (declared here, built by the synthesis stage)
=====================  ==============================================================================

Around them: :mod:`~shoplm.builders.frames` (source frames between the ``ingest`` and ``build``
stages), :mod:`~shoplm.builders.decontam` (drop training questions that overlap evaluation
questions), :mod:`~shoplm.builders.mixtures` (named mixtures such as the seed's v7, v8, v7b, v9b).
Their params sections, ``ingest`` and ``build``, are in :mod:`shoplm.params.build`. Names are exported
lazily (``shoplm.lazy``).
"""

from shoplm.lazy import lazy_getattr

_EXPORTS = {name: "registry" for name in ("BUILDERS", "BuildContext", "BuilderSpec", "LLMRequest", "get_builder",
                                          "register", "register_llm")}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
