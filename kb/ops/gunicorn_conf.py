"""gunicorn settings for the site: ``gunicorn -c python:kb.ops.gunicorn_conf 'kb:create_app()'``.

With ``PROMETHEUS_MULTIPROC_DIR`` set, each worker writes its counters to that folder and
``/metrics`` adds them up; the folder is emptied at start so counts from an earlier run do not linger.
"""

from __future__ import annotations

import os
from pathlib import Path

# Anything here can still be overridden on the command line (--workers, --bind).
wsgi_app = "kb:create_app()"
accesslog = "-"


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
