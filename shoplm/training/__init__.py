"""QLoRA training of ShopBench adapters (seed 003 §4.2) and DPO on top of them (seed 000).

Modules, one concern each (torch, transformers, peft and trl are imported where used); the ``train`` and
``dpo`` params sections are ``shoplm.params.training``:

* ``examples``: questions → chat (``prompts.build_messages``) → token ids, labels on the answer only;
* ``packing``: best-fit bins, padding-free packing collator (position ids restart per example), the
  padded baseline, token counts;
* ``model``: 4-bit NF4 loading (bitsandbytes), the CPU repacking workaround, LoRA (peft), placement
  per launch kind (one process, DDP, FSDP, DeepSpeed);
* ``checkpoints``: run fingerprints and which checkpoint to resume from; ``provenance``: a model
  folder's content identity (from DVC's hash state, cheap on huge weights);
* ``monitoring``: token meter, the Trainer that feeds it, loss/throughput logging, peak memory;
* ``sft``: ``train_adapter(AdapterRun(...))`` with transformers' Trainer;
* ``preferences`` / ``dpo``: preference pairs and ``train_dpo(DPORun(...))`` with trl's DPOTrainer;
  ``rejection_sources`` (registry: synthetic, on_policy), ``on_policy`` (the SFT model's sampled
  answers), ``answer_scores`` (each answer under the official parser and metric);
* ``layout``: the stages' paths and mixture loader (shared by ``tasks/train.py`` and ``tasks/dpo.py``).

Stages: ``tasks/train.py`` (``train@<adapter>``) and ``tasks/dpo.py`` (``dpo@<adapter>``).
"""
