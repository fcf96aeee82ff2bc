"""Every params section's schema, and the loading that reports file, line and key; no implementation.

A stage imports its own section's module and the loader (``shoplm.params.loader``), nothing else of the
library that it does not run, so its DVC deps are its real import closure: editing a builder reruns the
stages that build, not those that train or evaluate. This package imports pydantic and yaml only;
registries are checked by their names, which each registry knows before it imports its implementations
(``shoplm.registry.Registry(lazy=...)``).

==================  ==============================================================================
module              what it holds
==================  ==============================================================================
``loader``          reading a params file, one section at a time, with file:line:key errors
``file``            ``Params``: the whole file (every section, and the checks across sections)
``base``            ``base`` and the tiny model's spec
``evaluate``        ``evaluate`` with generation, prompts, constraints, budget and vLLM settings
``data``            ``ingest``, ``build`` and ``eval_sets``
``training``        ``train`` and ``dpo``
``merging``         ``merge`` and ``search``
``quantization``    ``quantize``
``release``         ``package`` and ``register_model``
``studies``         ``prompt_ablation`` and ``sweep``
``synthesis``       ``synth``
``profiles``        profiles (``profiles/*.yaml``) rendered into ``params.yaml``, the merge, the lock
==================  ==============================================================================

This package must not import the modules it describes; ``tests/test_params_light.py`` checks that
importing every module here loads no pandas, torch or transformers.
"""
