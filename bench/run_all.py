#!/usr/bin/env python3
"""Every benchmark in bench/, on SQLite and on PostgreSQL, in one table: each figure,
its budget from DESIGN.md section 9, the ratio and whether the budget is met.

    .venv/bin/python bench/run_all.py                      # everything, full size (hours)
    .venv/bin/python bench/run_all.py --quick              # small sizes: a smoke check
    .venv/bin/python bench/run_all.py --only intake --db postgres
    .venv/bin/python bench/run_all.py --markdown           # the table for docs/performance.md
    .venv/bin/python bench/run_all.py --scaling            # how the cost grows with the data
    .venv/bin/python bench/run_all.py --from a.json --from b.json  # one table from --save files

Each benchmark runs as its own process (``bench/<name>.py ... --json FILE``), on its own
fresh database (bench/harness.py); its output streams through, prefixed with its name
and database, and its figures are read back from the JSON file it writes. A benchmark
that fails is reported and the others still run; the exit status is 1 if any failed.
Budgets missed do not change the exit status: the table says so.

PostgreSQL databases are made on the server of ``--pg-url`` (``BENCH_POSTGRES_URL``,
default ``postgres://postgres@127.0.0.1:5432/postgres``), named ``--pg-prefix``
(``BENCH_POSTGRES_PREFIX``, default ``amparo_bench_``) and a random suffix, and dropped
afterwards. See bench/README.md and docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


# The budgets: ../shared/DESIGN.md section 9, "Performance budgets (measured by scripts in
# bench/, not by timed tests)", on the 2-core machine. One entry per figure a benchmark
# writes to its JSON file; ``None``: shown for context, no budget of its own.


@dataclass(frozen=True)
class Budget:
    op: str  # "<", ">=" or "==" (the measured value must be ... the bound)
    bound: float
    unit: str  # "s", "/s", "ratio", "count"
    row: str  # the DESIGN.md section 9 row it comes from

    def met(self, value: float) -> bool:
        if self.op == "<":
            return value < self.bound
        if self.op == ">=":
            return value >= self.bound
        return value == self.bound

    def ratio(self, value: float) -> float | None:
        """measured / budget, turned so that above 1 is over budget; None for counts
        that must be zero."""
        if self.op == "==":
            return None
        if self.op == "<":
            return value / self.bound
        return self.bound / value if value else math.inf

    def text(self) -> str:
        return f"{'<' if self.op == '<' else '>=' if self.op == '>=' else '='} " + fmt(
            self.bound, self.unit
        )


INTAKE = "threat intake over HTTP, full path"
CHECKINS = "check-ins over HTTP, 1,000 active travellers"
MISSED = "missed check-in: deadline to first notification"
LATENCY = "report committed to first notification handed to the channel"
ESCALATION = "escalation lateness, 10,000 pending steps, 2 workers"
DASHBOARD = "dashboards and KPI pages, 1,000,000 incidents"
PUBLIC = "public report, 1,000,000 incidents"
FORM = "report form page"

# (benchmark, figure in its JSON, label, unit, budget or None)
ROWS: list[tuple[str, str, str, str, Budget | None]] = [
    ("intake", "reports_per_s", "threat reports/s", "/s", Budget(">=", 200, "/s", INTAKE)),
    ("intake", "reports_p99_s", "threat report p99", "s", Budget("<", 0.25, "s", INTAKE)),
    (
        "intake",
        "reports_to_bare",
        "reports / bare one-insert rate",
        "ratio",
        Budget(">=", 0.25, "ratio", INTAKE),
    ),
    ("intake", "bare_per_s", "bare one-insert endpoint/s", "/s", None),
    ("intake", "reports_failed", "threat reports failed", "count", None),
    ("checkins", "checkins_per_s", "check-ins/s", "/s", Budget(">=", 300, "/s", CHECKINS)),
    ("checkins", "checkins_p99_s", "check-in p99", "s", Budget("<", 0.1, "s", CHECKINS)),
    ("checkins", "checkins_unrecorded", "check-ins answered, not recorded", "count", None),
    (
        "checkins",
        "missed_spread_p99_s",
        "missed check-in p99, deadlines spread over 60 s",
        "s",
        Budget("<", 1.0, "s", MISSED),
    ),
    (
        "checkins",
        "missed_burst_p99_s",
        "missed check-in p99, 200 deadlines within 3 s",
        "s",
        Budget("<", 2.0, "s", MISSED),
    ),
    ("checkins", "missed_lost", "missed check-ins lost", "count", Budget("==", 0, "count", MISSED)),
    (
        "checkins",
        "missed_duplicated",
        "missed check-ins duplicated",
        "count",
        Budget("==", 0, "count", MISSED),
    ),
    (
        "alert_latency",
        "first_message_p99_s",
        "commit to first message p99, 20 alerts/s",
        "s",
        Budget("<", 2.0, "s", LATENCY),
    ),
    ("alert_latency", "without_delivery", "alerts without a message", "count", None),
    ("alert_latency", "api_p99_s", "POST /api/v1/alerts p99", "s", None),
    (
        "escalation",
        "clean_lateness_p99_s",
        "lateness p99",
        "s",
        Budget("<", 1.0, "s", ESCALATION),
    ),
    (
        "escalation",
        "clean_duplicates",
        "steps run twice",
        "count",
        Budget("==", 0, "count", ESCALATION),
    ),
    ("escalation", "clean_lost", "steps lost", "count", Budget("==", 0, "count", ESCALATION)),
    (
        "escalation",
        "kill_lateness_p99_s",
        "lateness p99, one worker SIGKILLed",
        "s",
        Budget("<", 1.0, "s", ESCALATION),
    ),
    (
        "escalation",
        "kill_duplicates",
        "steps run twice, one worker SIGKILLed",
        "count",
        Budget("==", 0, "count", ESCALATION),
    ),
    (
        "escalation",
        "kill_lost",
        "steps lost, one worker SIGKILLed",
        "count",
        Budget("==", 0, "count", ESCALATION),
    ),
    ("escalation", "clean_steps_per_s", "steps/s sustained", "/s", None),
    ("escalation", "clean_delivery_p99_s", "due to webhook p99 (not budgeted)", "s", None),
    (
        "dashboard",
        "default_view_worst_p95_s",
        "worst query p95, default view (last 12 months)",
        "s",
        Budget("<", 0.3, "s", DASHBOARD),
    ),
    (
        "dashboard",
        "all_years_worst_p95_s",
        "worst query p95, all ten years",
        "s",
        Budget("<", 0.3, "s", DASHBOARD),
    ),
    (
        "dashboard",
        "caseload_worst_p95_s",
        "open cases, overdue assessments, region choices p95",
        "s",
        Budget("<", 0.3, "s", DASHBOARD),
    ),
    (
        "dashboard",
        "map_cells_p95_s",
        "map data, counts per cell p95",
        "s",
        Budget("<", 0.3, "s", DASHBOARD),
    ),
    (
        "dashboard",
        "map_precise_p95_s",
        "map data, precise first page p95",
        "s",
        Budget("<", 0.3, "s", DASHBOARD),
    ),
    (
        "dashboard",
        "public_report_s",
        "public report, all ten years",
        "s",
        Budget("<", 10, "s", PUBLIC),
    ),
    ("scaleout", "reports_per_s", "threat reports/s, 2 web + 3 workers", "/s", None),
    (
        "scaleout",
        "escalation_lateness_p99_s",
        "lateness p99, 2 web + 3 workers",
        "s",
        Budget("<", 1.0, "s", ESCALATION),
    ),
    (
        "scaleout",
        "duplicates",
        "reports, steps or messages twice",
        "count",
        Budget("==", 0, "count", ESCALATION),
    ),
    (
        "scaleout",
        "lost",
        "reports, steps or messages lost",
        "count",
        Budget("==", 0, "count", ESCALATION),
    ),
]
# Section 9 also budgets the report form page (< 60 KB over the wire, usable with
# JavaScript off); the test suite checks it (tests/incidents/test_pages.py), no bench does.
NOT_BENCHED = {FORM: "< 60 KB, no JavaScript needed: checked by tests/incidents/test_pages.py"}


# The benchmarks, their full and --quick command lines


@dataclass(frozen=True)
class Bench:
    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    databases: tuple[str, ...] = ("sqlite", "postgresql")


BENCHES = [
    Bench("intake", (), ("--seconds", "3", "--clients", "8")),
    Bench(
        "checkins",
        (),
        (
            *("--travellers", "50", "--seconds", "3", "--clients", "8"),
            *("--missed", "20", "--spread", "5", "--burst", "1", "--drain", "20"),
        ),
    ),
    Bench("alert_latency", (), ("--seconds", "3", "--drain", "30")),
    Bench(
        "escalation",
        (),
        (
            *("--steps", "300", "--seconds", "6", "--lead", "15"),
            *("--drain", "60", "--lease-seconds", "10"),
        ),
    ),
    Bench("dashboard", (), ("--incidents", "2000", "--alerts", "200", "--runs", "3")),
    Bench(
        "scaleout",
        (),
        (
            *("--seconds", "6", "--steps", "150", "--clients", "4", "--reports", "30"),
            *("--web-workers", "1"),
        ),
        databases=("postgresql",),
    ),
]

# --scaling: the dashboard at 1k, 100k and 1M incidents; the escalation clock with 100,
# 10,000 and 100,000 pending steps (issue 10, point 1).
DASHBOARD_SIZES = (1_000, 100_000, 1_000_000)
PENDING_SIZES = (100, 10_000, 100_000)
QUICK_DASHBOARD_SIZES = (1_000, 10_000)
QUICK_PENDING_SIZES = (100, 1_000)
# In each pending-steps run the same work falls due (SCALING_DUE steps over SCALING_WINDOW
# seconds); the rest of the pending steps wait, due a day later: same work, more data.
SCALING_DUE = 100
SCALING_WINDOW = 10


# Formatting


def fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.0f} ms"
        return f"{value:.2f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def render(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, rule, *body])


# Running one benchmark


@dataclass
class Outcome:
    bench: str
    database: str
    data: dict[str, Any] | None
    error: str = ""
    seconds: float = 0.0


def run_bench(
    name: str, args: list[str], database: str, opts: argparse.Namespace, label: str = ""
) -> Outcome:
    """``bench/<name>.py args`` on ``database``; its JSON figures (or why there are none)."""
    tag = f"[{label or name}/{database}]"
    with tempfile.TemporaryDirectory(prefix="amparo-run-all-") as tmp:
        out = Path(tmp) / "figures.json"
        argv = [sys.executable, str(BENCH / f"{name}.py"), *args, "--json", str(out)]
        if database == "postgresql" and name != "scaleout":
            argv.append("--postgres")
        if database == "postgresql":
            argv += ["--pg-url", opts.pg_url]
        env = dict(os.environ)
        if opts.pg_prefix:
            env["BENCH_POSTGRES_PREFIX"] = opts.pg_prefix
        print(f"{tag} {' '.join(argv[1:])}", flush=True)
        began = time.monotonic()
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        tail: list[str] = []

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                tail.append(line.rstrip("\n"))
                del tail[:-40]
                if not opts.quiet:
                    print(f"{tag} {line}", end="", flush=True)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        timeout = opts.timeout or (900 if opts.quick else 4 * 3600)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGINT first: the benchmark's finally blocks stop its servers and workers
            # and drop its database; SIGKILL if it does not end.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            code = None
        reader.join(timeout=10)
        took = time.monotonic() - began
        data = None
        if out.exists():
            with contextlib.suppress(ValueError):
                data = json.loads(out.read_text(encoding="utf-8"))
        if code is None:
            error = f"timed out after {timeout:.0f} s"
        elif data is None:
            error = f"exited {code} without figures: " + " / ".join(tail[-3:])
        elif code != 0:
            # scaleout exits 1 when exactly once is broken; its figures still count.
            error = f"exited {code}"
        else:
            error = ""
        if error:
            print(f"{tag} FAILED: {error}", flush=True)
        return Outcome(name, database, data, error, took)


# The environment the run had


def describe_machine(opts: argparse.Namespace) -> list[str]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = (
        " (with uncommitted changes)"
        if _git("status", "--porcelain", "--untracked-files=no")
        else ""
    )
    postgres = ""
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(opts.pg_url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            postgres = f"PostgreSQL {row[0]}" if row else ""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"commit: {commit or 'unknown'}{dirty}",
        f"machine: {os.cpu_count()} cores ({cpu or 'unknown CPU'}), {memory or 'unknown RAM'}, "
        f"{platform.system()} {platform.release()}",
        f"software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
        + (f", {postgres}" if postgres else ""),
        f"load average at the start: {load}",
    ]


def _git(*args: str) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=20, check=False
        )
        return done.stdout.strip()
    return ""


# The budget table


def budget_rows(outcomes: list[Outcome], markdown: bool) -> list[list[str]]:
    rows = []
    for bench in BENCHES:
        runs = [o for o in outcomes if o.bench == bench.name]
        for outcome in runs:
            if outcome.data is None:
                rows.append(
                    [bench.name, f"(did not run: {outcome.error})", outcome.database]
                    + ["", "", "", "FAILED"]
                )
        for row_bench, figure, label, unit, budget in ROWS:
            if row_bench != bench.name:
                continue
            for outcome in runs:
                figures = (outcome.data or {}).get("figures", {})
                if figure not in figures:
                    continue  # failed, or a run it skipped (--kill, --no-kill, --no-load)
                rows.append(
                    _row(
                        bench.name, label, outcome.database, figures[figure], unit, budget, markdown
                    )
                )
    return rows


def _row(
    bench: str,
    label: str,
    database: str,
    value: float | None,
    unit: str,
    budget: Budget | None,
    markdown: bool,
) -> list[str]:
    budget_text = budget.text() if budget else "-"
    if value is None:
        return [bench, label, database, "-", budget_text, "", "no value" if budget else ""]
    ratio = budget.ratio(value) if budget else None
    verdict = ""
    if budget:
        verdict = "met" if budget.met(value) else ("**missed**" if markdown else "MISSED")
    ratio_text = "" if ratio is None else ("inf" if math.isinf(ratio) else f"{ratio:.2f}")
    return [bench, label, database, fmt(value, unit), budget_text, ratio_text, verdict]


def sizes_line(outcome: Outcome) -> str:
    params = (outcome.data or {}).get("params", {})
    shown = ", ".join(f"{k} {v}" for k, v in params.items() if v not in (None, "default"))
    return f"{outcome.bench}/{outcome.database}: {shown or 'defaults'} ({outcome.seconds:.0f} s)"


def print_table(outcomes: list[Outcome], opts: argparse.Namespace, machine: list[str]) -> None:
    headers = ["benchmark", "figure", "database", "measured", "budget", "ratio", "verdict"]
    rows = budget_rows(outcomes, opts.markdown)
    print()
    if opts.markdown:
        print("### Environment\n")
        for line in machine:
            print(f"  - {line.strip()}" if line.startswith("  ") else f"- {line}")
        print()
        if opts.quick:
            print(
                "**Quick run** (`--quick`): sizes far below the budgets' conditions; these "
                "figures show that the benchmarks run, not whether the budgets are met.\n"
            )
        print(render(headers, rows, markdown=True))
        print()
        print("Sizes and times of each run:\n")
        for outcome in outcomes:
            print(f"- {sizes_line(outcome)}")
        print()
        for what, how in NOT_BENCHED.items():
            print(f"Not benchmarked here: {what} ({how}).")
    else:
        print("=" * 100)
        for line in machine:
            print(line)
        if opts.quick:
            print(
                "QUICK RUN: sizes far below the budgets' conditions; the figures show that "
                "the benchmarks run, not whether the budgets are met."
            )
        print()
        print(render(headers, rows, markdown=False))
        print()
        for outcome in outcomes:
            print(sizes_line(outcome))
        for what, how in NOT_BENCHED.items():
            print(f"not benchmarked here: {what} ({how})")
    print()
    print(
        "ratio: measured / budget for a ceiling, budget / measured for a floor: above 1 is "
        "over budget. Budgets: ../shared/DESIGN.md section 9 (the 2-core machine)."
    )
    failed = [o for o in outcomes if o.error]
    for outcome in failed:
        print(f"FAILED: {outcome.bench} on {outcome.database}: {outcome.error}")


# --scaling


def run_scaling(opts: argparse.Namespace, databases: list[str]) -> list[Outcome]:
    dashboard_sizes = opts.dashboard_sizes or (
        QUICK_DASHBOARD_SIZES if opts.quick else DASHBOARD_SIZES
    )
    pending_sizes = opts.pending_sizes or (QUICK_PENDING_SIZES if opts.quick else PENDING_SIZES)
    outcomes = []
    wanted = set(opts.only or ["dashboard", "escalation"])
    for database in databases:
        if "dashboard" in wanted:
            for size in dashboard_sizes:
                args = ["--incidents", str(size)]
                if opts.quick:
                    args += ["--alerts", "200", "--runs", "3"]
                outcome = run_bench("dashboard", args, database, opts, label=f"dashboard {size:,}")
                outcome.data = dict(outcome.data or {}, size=size)
                outcomes.append(outcome)
        if "escalation" in wanted:
            for size in pending_sizes:
                due = min(size, SCALING_DUE)
                args = [
                    *("--no-kill", "--steps", str(due), "--seconds", str(SCALING_WINDOW)),
                    *("--backlog", str(size - due), "--lead", "15", "--drain", "60"),
                ]
                outcome = run_bench(
                    "escalation", args, database, opts, label=f"escalation {size:,}"
                )
                outcome.data = dict(outcome.data or {}, size=size)
                outcomes.append(outcome)
    return outcomes


def print_scaling(outcomes: list[Outcome], opts: argparse.Namespace, machine: list[str]) -> None:
    print()
    if opts.markdown:
        for line in machine:
            print(f"- {line}")
    else:
        print("=" * 100)
        print("\n".join(machine))
    dashboard = [o for o in outcomes if o.bench == "dashboard"]
    if dashboard:
        headers = [
            "incidents",
            "database",
            "insert",
            "default view worst p95",
            "all years worst p95",
            "map cells p95",
            "public report",
            "all years vs smallest",
        ]
        rows = []
        for database in ("sqlite", "postgresql"):
            series = [o for o in dashboard if o.database == database]
            base = _figure(series[0], "all_years_worst_p95_s") if series else None
            for o in series:
                grow = _figure(o, "all_years_worst_p95_s")
                rows.append(
                    [
                        f"{o.data['size']:,}" if o.data else "?",
                        database,
                        fmt(_figure(o, "insert_s"), "s"),
                        fmt(_figure(o, "default_view_worst_p95_s"), "s"),
                        fmt(grow, "s"),
                        fmt(_figure(o, "map_cells_p95_s"), "s"),
                        fmt(_figure(o, "public_report_s"), "s"),
                        f"x{grow / base:.1f}" if grow and base else ("FAILED" if o.error else "-"),
                    ]
                )
        print()
        print(
            "Dashboard queries and the public report as the incidents grow (p95; budget "
            "300 ms per query, 10 s for the public report):"
        )
        print()
        print(render(headers, rows, opts.markdown))
    escalation = [o for o in outcomes if o.bench == "escalation"]
    if escalation:
        headers = [
            "pending steps",
            "database",
            "seeding",
            "lateness p50",
            "p99",
            "max",
            "run twice",
            "lost",
            "p99 vs smallest",
        ]
        rows = []
        for database in ("sqlite", "postgresql"):
            series = [o for o in escalation if o.database == database]
            base = _figure(series[0], "clean_lateness_p99_s") if series else None
            for o in series:
                p99 = _figure(o, "clean_lateness_p99_s")
                rows.append(
                    [
                        f"{o.data['size']:,}" if o.data else "?",
                        database,
                        fmt(_figure(o, "clean_seed_s"), "s"),
                        fmt(_figure(o, "clean_lateness_p50_s"), "s"),
                        fmt(p99, "s"),
                        fmt(_figure(o, "clean_lateness_max_s"), "s"),
                        fmt(_figure(o, "clean_duplicates"), "count"),
                        fmt(_figure(o, "clean_lost"), "count"),
                        f"x{p99 / base:.1f}" if p99 and base else ("FAILED" if o.error else "-"),
                    ]
                )
        print()
        print(
            f"The escalation clock as the pending steps grow: in every run the same "
            f"{SCALING_DUE} steps fall due over {SCALING_WINDOW} s (2 workers); the other "
            "pending steps are due a day later (budget: p99 < 1 s, none twice, none lost):"
        )
        print()
        print(render(headers, rows, opts.markdown))
    for o in outcomes:
        if o.error:
            print(f"FAILED: {o.bench} ({(o.data or {}).get('size')}) on {o.database}: {o.error}")


def _figure(outcome: Outcome, name: str) -> float | None:
    value = ((outcome.data or {}).get("figures") or {}).get(name)
    return float(value) if value is not None else None


def load_saved(paths: list[str]) -> tuple[list[Outcome], list[str]]:
    """Runs saved by ``--save``, for one table: e.g. the dashboard's full-size runs of a
    ``--scaling`` run beside the other benchmarks of a run with ``--only``. The table
    names each file's machine lines, so runs of different commits or loads show it."""
    outcomes: list[Outcome] = []
    machine: list[str] = []
    full_dashboard = DASHBOARD_SIZES[-1]
    for path in paths:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        if saved.get("quick"):
            raise SystemExit(f"{path} is a --quick run: its figures are not the budgets' sizes")
        for run in saved["runs"]:
            if saved.get("scaling"):
                data = run.get("data") or {}
                if run["bench"] != "dashboard" or data.get("size") != full_dashboard:
                    continue
            outcomes.append(
                Outcome(run["bench"], run["database"], run["data"], run["error"], run["seconds"])
            )
        benches = sorted({run["bench"] for run in saved["runs"]})
        machine.append(f"{Path(path).name} ({', '.join(benches)}):")
        machine += [f"  {line}" for line in saved["machine"]]
    order = {bench.name: i for i, bench in enumerate(BENCHES)}
    outcomes.sort(key=lambda o: (order.get(o.bench, 99), o.database != "sqlite"))
    return outcomes, machine


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    parser.add_argument(
        "--only",
        action="append",
        choices=[b.name for b in BENCHES],
        help="only this benchmark (repeatable)",
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="instead of the table: the dashboard at 1k, 100k, 1M incidents and the "
        "escalation clock with 100, 10,000, 100,000 pending steps",
    )
    parser.add_argument(
        "--dashboard-sizes", type=lambda s: tuple(int(x) for x in s.split(",")), default=None
    )
    parser.add_argument(
        "--pending-sizes", type=lambda s: tuple(int(x) for x in s.split(",")), default=None
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server the benchmark databases are made on (loopback only)",
    )
    parser.add_argument(
        "--pg-prefix",
        default=os.environ.get("BENCH_POSTGRES_PREFIX", ""),
        help="name prefix of the benchmark databases (default amparo_bench_)",
    )
    parser.add_argument("--timeout", type=float, default=0, help="per benchmark, seconds")
    parser.add_argument("--quiet", action="store_true", help="do not stream the benchmarks' output")
    parser.add_argument("--save", metavar="PATH", help="write every run's figures to PATH (JSON)")
    parser.add_argument(
        "--from",
        dest="from_files",
        metavar="PATH",
        action="append",
        help="run nothing: print the table from files written by --save (repeatable; "
        "from a --scaling file only the full-size dashboard runs are taken)",
    )
    opts = parser.parse_args()
    if opts.from_files:
        outcomes, machine = load_saved(opts.from_files)
        print_table(outcomes, opts, machine)
        return 1 if any(o.error for o in outcomes) else 0

    databases = {
        "sqlite": ["sqlite"],
        "postgres": ["postgresql"],
        "both": ["sqlite", "postgresql"],
    }[opts.db]
    machine = describe_machine(opts)
    if opts.scaling:
        outcomes = run_scaling(opts, databases)
    else:
        outcomes = []
        for bench in BENCHES:
            if opts.only and bench.name not in opts.only:
                continue
            for database in databases:
                if database not in bench.databases:
                    continue
                args = list(bench.quick if opts.quick else bench.full)
                outcomes.append(run_bench(bench.name, args, database, opts))
    if opts.save:
        Path(opts.save).write_text(
            json.dumps(
                {
                    "machine": machine,
                    "quick": opts.quick,
                    "scaling": opts.scaling,
                    "runs": [o.__dict__ for o in outcomes],
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    if opts.scaling:
        print_scaling(outcomes, opts, machine)
    else:
        print_table(outcomes, opts, machine)
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
