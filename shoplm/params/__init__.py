"""Every params section's schema, and the loading that reports file, line and key; no implementation.

A stage imports its own section's module and the loader (``shoplm.params.loader``), nothing else of the
library that it does not run, so its DVC deps are its real import closure: editing a builder reruns the
stages that build, not those that train or evaluate. Besides pydantic and yaml, this package imports
only the light modules that define the names it checks (task types, prompt strategies, answer shapes,
the registries of backends, builders, merge methods, quantizers, submission tracks); a registry whose
implementations are heavy knows its names before it imports them (``shoplm.registry.Registry(names=...)``).

==================  ==============================================================================
module              what it holds
==================  ==============================================================================
``loader``          reading a params file one section at a time, with file:line:key errors
``file``            ``Params``: the whole file (every section, and the checks across sections)
``base``            ``base``, the tiny model's spec, the one ``evaluate`` key stage base reads
``evaluate``        ``evaluate``, and ``evaluate.final``
``generation``      ``evaluate.generation``: token limits, post-processing, prompt strategies
``serving``         ``evaluate.vllm``, ``evaluate.budget``, ``evaluate.constraints``
``ingest``          ``ingest``
``build``           ``build``
``training``        ``train`` and ``dpo``
``merging``         ``merge``, ``search`` and the merge spec
``quantization``    ``quantize``
``release``         ``package`` and ``register_model``
``studies``         ``prompt_ablation`` and ``sweep``
``synthesis``       ``synth``
``profiles``        profiles (``profiles/*.yaml``) rendered into ``params.yaml``; ``merge`` the layering
``lock``            the lock that serialises writers of ``params.yaml``
==================  ==============================================================================

This package must not import the modules it describes; ``tests/test_params_light.py`` checks that
importing every module here loads no pandas, torch or transformers.
"""
