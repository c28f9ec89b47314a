"""Import jobs: Celery when a broker is configured, else a background thread in this process.

:func:`import_job_start` picks how a phase runs:

* ``inline`` (argument, or ``settings.IMPORTS_RUN_INLINE``; tests set it): right now, in the
  caller — the request or the command waits for the result;
* ``settings.CELERY_BROKER_URL`` set: a Celery task (:func:`run_import_phase`), sent once
  the caller's transaction commits;
* otherwise (the embedded default): a daemon thread in this process, started once the
  caller's transaction commits. The page returns at once; closing the page does not stop the
  job (stopping the server does: the run page then says the job stalled).

The job saves its progress on the run (``phase``, ``progress_done``/``progress_total``),
which the run page polls.
"""

from __future__ import annotations

import logging
import threading
import weakref

from celery import shared_task
from django.conf import settings
from django.db import connections, transaction

from imports.models import ImportRun
from imports.pipeline import run_phase

log = logging.getLogger(__name__)

PHASES = ("preview", "commit")

#: Threads started by this process (weakly held); see :func:`wait_for_threads`.
_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


@shared_task(name="imports.run_import_phase", ignore_result=True)
def run_import_phase(run_id: int, phase: str) -> None:
    """Celery task: run one phase of an import run."""
    run_phase(run_id=run_id, phase=phase)


def _thread_main(run_id: int, phase: str) -> None:
    try:
        run_phase(run_id=run_id, phase=phase)
    except Exception:  # pragma: no cover - run_phase records its own failures
        log.exception("import %s: %s job crashed", run_id, phase)
    finally:
        connections.close_all()


def import_job_start(*, run: ImportRun, phase: str, inline: bool | None = None) -> threading.Thread | None:
    """Run ``phase`` of ``run`` inline, as a Celery task or in a background thread (see the
    module docstring). Returns the thread when one is used (tests may ``join()`` it)."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    if inline is None:
        inline = bool(getattr(settings, "IMPORTS_RUN_INLINE", False))
    if inline:
        run_phase(run_id=run.pk, phase=phase)
        run.refresh_from_db()
        return None
    if getattr(settings, "CELERY_BROKER_URL", ""):
        run_id = run.pk
        transaction.on_commit(lambda: run_import_phase.delay(run_id, phase))
        return None
    thread = threading.Thread(target=_thread_main, args=(run.pk, phase), name=f"import-{run.pk}-{phase}", daemon=True)
    _threads.add(thread)
    transaction.on_commit(thread.start)
    return thread


def wait_for_threads(timeout: float = 60) -> None:
    """Wait until the import threads of this process have ended (tests, orderly shutdown)."""
    for thread in list(_threads):
        if thread.is_alive():
            thread.join(timeout)
