"""Library settings of a flow run, so that its output shows real errors only.

Each is the library's own switch, set as a default (a value already in the environment wins) before the
flow module imports Prefect or MLflow, which read their settings at import. The stages (DVC runs them
as child processes) inherit the environment. The Makefile exports the same for its targets.

- Prefect's server sends a telemetry heartbeat to prefect.io every 10 minutes. Offline it logs an
  ERROR ("Failed to send telemetry: [Errno -2] Name or service not known"), and the write to the
  server's SQLite file that comes first fails with a ``database is locked`` traceback when another
  writer holds the file: ``PREFECT_SERVER_ANALYTICS_ENABLED=false`` turns the heartbeat off.
- Prefect 3.7 puts its memo of block registration in ``~/.prefect/memo_store.toml`` whatever
  ``PREFECT_HOME`` says (its default ignores it), and warns when that folder does not exist:
  ``PREFECT_SERVER_MEMO_STORE_PATH`` puts it in ``PREFECT_HOME``.
- MLflow's and DVC's usage telemetry: ``MLFLOW_DISABLE_TELEMETRY``, ``DVC_NO_ANALYTICS``.
- Not noise but the same place: the first flow of a fresh clone starts Prefect's temporary API server on
  a new database (migrations included); on a busy 2-core machine that took over Prefect's 20 s default
  and the run died before any stage ("Timed out while attempting to connect to ephemeral Prefect API
  server"): ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=120``.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def quiet_libraries() -> None:
    """Set each library's switch in ``os.environ`` unless it is set already."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    os.environ.setdefault("PREFECT_SERVER_MEMO_STORE_PATH", str(home / "memo_store.toml"))
