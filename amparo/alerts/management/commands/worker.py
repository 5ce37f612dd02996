"""``amparo worker``: the escalation clock, the auditor, the outbox sender and the task
queue, as threads of one process. SIGTERM or SIGINT stops every loop cleanly: a step or
a message in hand is finished (or its transaction rolled back), nothing is lost."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone

from amparo.alerts import clock, delivery

log = logging.getLogger("amparo.worker")


class Command(BaseCommand):
    help = "Run the background worker: escalation clock, auditor, outbox sender, task queue."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--senders", type=int, default=4, help="parallel deliveries")
        parser.add_argument(
            "--auditor-bound",
            type=float,
            default=5.0,
            help="the auditor runs steps overdue by more than this many seconds",
        )
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=clock.LEASE_SECONDS,
            help="how long a message in hand is reserved; after that (its sender died) "
            "another worker sends it; keep it longer than the slowest delivery",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=clock.BATCH,
            help="steps claimed and committed per transaction",
        )
        parser.add_argument("--no-tasks", action="store_true", help="do not run the task queue")

    def handle(self, *args: Any, **options: Any) -> None:
        name = f"{socket.gethostname()}:{os.getpid()}"
        stop = threading.Event()
        interval = options["interval"]

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("%s received: stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        delivery.warm_up()
        sender = clock.Sender(options["senders"], lease_seconds=options["lease_seconds"])

        def auditor_loop() -> int:
            ran = clock.run_due_steps(
                f"{name}/auditor", overdue_by=options["auditor_bound"], batch=options["batch"]
            )
            # Security plan review reminders (a read-only look first: an idle second costs
            # one indexed query). Imported here, as alerts knows nothing of incidents
            # (DESIGN.md section 4). A failure is logged and never stops the clock's audit.
            try:
                from amparo.incidents import plan

                ran += plan.send_due_reminders(timezone.now())
            except OperationalError as exc:
                log.warning("security plan reminders: database busy (%s)", exc)
            except Exception:
                log.exception("security plan reminders failed; trying again")
            # Risk re-assessments coming due (issue 7): one reminder per due date.
            try:
                from amparo.risk import reminders

                ran += reminders.send_due_reassessment_reminders(timezone.now())
            except OperationalError as exc:
                log.warning("risk re-assessment reminders: database busy (%s)", exc)
            except Exception:
                log.exception("risk re-assessment reminders failed; trying again")
            return ran

        def checkins_loop() -> int:
            # Missed check-ins (DESIGN.md section 5) on the clock's own pace, not the
            # auditor's second: the budget is under a second from the deadline to the
            # first notification. Idle, it costs one indexed query (a look before any
            # lock). Imported here, as alerts knows nothing of travel (section 4).
            from amparo.travel import checkins

            return checkins.sweep_missed(timezone.now())

        threads = [
            threading.Thread(
                target=_cycle_loop,
                args=(name, sender, options["batch"], interval, stop),
                name="clock+outbox",
                daemon=True,
            ),
            threading.Thread(
                target=_loop,
                args=(f"{name}/auditor", "auditor", auditor_loop, max(1.0, interval), stop),
                name="auditor",
                daemon=True,
            ),
            threading.Thread(
                target=_loop,
                args=(f"{name}/checkins", "checkins", checkins_loop, interval, stop),
                name="checkins",
                daemon=True,
            ),
        ]
        task_worker = None
        if not options["no_tasks"]:
            task_worker = _task_worker(name)
            threads.append(
                threading.Thread(
                    target=_task_loop, args=(task_worker, stop), name="tasks", daemon=True
                )
            )
        for thread in threads:
            thread.start()
        self.stdout.write(f"worker {name} running: {', '.join(t.name for t in threads)}")
        stop.wait()
        if task_worker is not None:
            task_worker.running = False
        for thread in threads:
            thread.join(timeout=20)
        sender.shutdown()
        self.stdout.write(f"worker {name} stopped")


def _cycle_loop(
    name: str, sender: clock.Sender, batch: int, interval: float, stop: threading.Event
) -> None:
    """The clock and the outbox: ``clock.cycle`` until stopped; it waits ``interval`` when
    idle, or less when a delivery finishes and has an outcome to record."""
    beats = 0
    every = max(1, int(2 / max(interval, 0.01)))
    while not stop.is_set():
        close_old_connections()
        done = 0
        try:
            done = clock.cycle(f"{name}/clock", sender, batch)
            if beats % every == 0:
                clock.beat("clock", worker=f"{name}/clock")
                clock.beat("outbox", worker=f"{name}/outbox")
            beats += 1
        except OperationalError as exc:
            log.warning("clock: database busy (%s); trying again", exc)
        except Exception:
            log.exception("clock loop failed; trying again")
        if not done:
            sender.wake.wait(interval)
            sender.wake.clear()
    connection.close()


def _loop(
    beat_name: str, kind: str, work: Callable[[], int], interval: float, stop: threading.Event
) -> None:
    beats = 0
    while not stop.is_set():
        close_old_connections()
        done = 0
        try:
            done = work()
            if beats % max(1, int(2 / max(interval, 0.01))) == 0:
                clock.beat(kind, worker=beat_name)
            beats += 1
        except OperationalError as exc:
            log.warning("%s: database busy (%s); trying again", kind, exc)
        except Exception:
            log.exception("%s loop failed; trying again", kind)
        if not done:
            stop.wait(interval)
    connection.close()


def _task_loop(task_worker: Any, stop: threading.Event) -> None:
    """django-tasks' database worker, started again after an error. Its own loop lets any
    database error but "locked" end it (PostgreSQL restarting, a dropped connection),
    and the task queue would stay stopped, silently, until the process restarts."""
    while not stop.is_set() and task_worker.running:
        try:
            task_worker.run()  # returns once ``running`` is cleared (stopping)
        except (OperationalError, InterfaceError) as exc:
            log.warning("tasks: database unavailable (%s); trying again", exc)
        except Exception:
            log.exception("task queue failed; trying again")
        else:
            break
        stop.wait(1.0)
    connection.close()


def _task_worker(name: str) -> Any:
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=["*"],
        interval=1.0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{name}/tasks"[:64],
        excluded_queue_names=[],
    )
