"""The harness's child process: the evaluator's side of the contract, run inside the package folder.

``shoplm.submission.check`` runs this file's source with ``python -c`` (so the package folder, the working
directory, is ``sys.path[0]``, as for the evaluator's own script) and without the project on PYTHONPATH:

    python -c "<this source>" PLAN.json RESULTS.jsonl

It imports ``UserModel`` exactly as the evaluator does, builds it, asks it what decodes (``decoding()``,
where it has one: the backend and its constraints), then calls ``batch_predict`` once per planned batch,
timing each call. It judges nothing: it records what came back (or the traceback) as one
JSON line per event, flushed at once so the parent can show progress and keep what a crash left. Standard
library only, since it must not import the project it is checking.
"""

import json
import sys
import time
import traceback


def _describe(outputs):
    """What batch_predict returned, as JSON: strings as they are, anything else named by its type."""
    if not isinstance(outputs, (list, tuple)):
        return {"not_a_list": type(outputs).__name__, "repr": repr(outputs)[:200]}
    return [o if isinstance(o, str) else {"not_a_string": type(o).__name__, "repr": repr(o)[:200]} for o in outputs]


def main(plan_file, results_file):
    with open(plan_file, encoding="utf-8") as fh:
        plan = json.load(fh)
    with open(results_file, "w", encoding="utf-8") as out:

        def emit(**record):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()

        start = time.perf_counter()
        try:
            from models.user_config import UserModel
        except BaseException:
            emit(event="fatal", stage="from models.user_config import UserModel", error=traceback.format_exc())
            return 1
        imported = time.perf_counter()
        try:
            model = UserModel()
            batch_size = model.get_batch_size()
        except BaseException:
            emit(event="fatal", stage="UserModel()", error=traceback.format_exc())
            return 1
        init_s = time.perf_counter() - imported
        try:  # shoplm's packages say what answers and under which constraints; others need not
            decoding = model.decoding() if callable(getattr(model, "decoding", None)) else None
        except BaseException:
            emit(event="fatal", stage="UserModel().decoding()", error=traceback.format_exc())
            return 1
        shoplm = sys.modules.get("shoplm")
        emit(event="ready", import_s=imported - start, init_s=init_s,
             batch_size=batch_size if isinstance(batch_size, int) else repr(batch_size),
             shoplm_file=getattr(shoplm, "__file__", None), decoding=decoding)
        for number, batch in enumerate(plan["batches"]):
            prompts = [plan["prompts"][i] for i in batch["indices"]]
            began = time.perf_counter()
            try:
                outputs, error = _describe(model.batch_predict({"prompt": prompts}, batch["is_multiple_choice"])), None
            except Exception:
                outputs, error = None, traceback.format_exc()
            emit(event="batch", batch=number, seconds=time.perf_counter() - began, outputs=outputs, error=error)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
