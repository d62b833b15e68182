"""Runs every bench in bench/ and writes their figures to one JSON-lines file.

Each bench is a script that prints one JSON line of figures on stdout. This
runner starts each in a fresh process, with the options that produce the
figures the README cites, and writes one line per bench run:

    {"bench": "sentiment", "script": "bench/sentiment.py", "args": [...],
     "started": "2025-01-01T12:00:00+00:00", "seconds": 212.4,
     "commit": "<git HEAD>", "dirty": true, "ok": true, "returncode": 0,
     "result": {...the bench's own JSON line...}}

A bench that fails (non-zero exit, or no JSON line as the last line of its
stdout) is written with ``"ok": false`` and an ``error``; the runner goes on
with the next one and exits 1 at the end. Bench output other than the JSON
line goes to stderr. Scripts in bench/ that the table below does not name
are run with their default options (and said so), so a new bench is never
skipped silently.

Usage:
    python bench/run_all.py                        # all, into bench/results.jsonl
    python bench/run_all.py --only serving,layers  # a subset
    python bench/run_all.py --list                 # what would run, runs nothing
    make bench BENCH_ARGS="--only tagging --output /tmp/tagging.jsonl"
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_OUTPUT = BENCH_DIR / "results.jsonl"
# Scripts in bench/ that are not benches.
HELPERS = frozenset({"runs.py", "generation_runs.py", "gettext_tsv.py", Path(__file__).name})


@dataclass(frozen=True)
class Bench:
    """One bench run: a name (unique), the script in bench/ and its options."""

    name: str
    script: str
    args: tuple[str, ...] = ()


# The options are those of the figures the README cites (see its Benchmarks
# section); they are spelled out even where they equal a script's defaults,
# so that a changed default does not silently change a published figure.
BENCHES = (
    Bench("layers", "layers.py", ("--steps", "10", "--rounds", "7", "--seconds", "2")),
    Bench(
        "train_throughput",
        "train_throughput.py",
        ("--steps", "100", "--compute_steps", "20", "--rounds", "5"),
    ),
    Bench(
        "transfer",
        "transfer.py",
        (
            *("--shots", "5,20", "--repeats", "3"),
            *("--pretrain_examples", "30000", "--pretrain_epochs", "3"),
            *("--epochs", "40", "--learning_rate", "0.01"),
        ),
    ),
    Bench("sentiment", "sentiment.py", ("--seeds", "3", "--variants", "lstm")),
    Bench("classify", "classify.py", ("--variants", "default,keras", "--seeds", "3")),
    Bench("tagging", "tagging.py", ("--seeds", "3")),
    Bench(
        "forecast",
        "forecast.py",
        ("--datasets", "sunspots,co2,stocks,stocks_daily", "--seeds", "3"),
    ),
    Bench("translation", "translation.py", ("--seeds", "3", "--gettext", "de")),
    Bench("captioning", "captioning.py", ("--seeds", "3")),
    Bench("ann_index", "ann_index.py", ("--queries", "1000", "--dimension", "128")),
    Bench(
        "metric_losses",
        "metric_losses.py",
        ("--examples", "60000", "--queries", "1000", "--epochs", "2", "--seeds", "1"),
    ),
    Bench(
        "visual_search",
        "visual_search.py",
        ("--seeds", "3", "--queries", "10000", "--latency_queries", "1000", "--million", "1000000"),
    ),
    Bench("ocr", "ocr.py", ("--seeds", "1")),
    Bench("speech", "speech.py", ("--seeds", "3")),
    Bench("faces", "faces.py", ("--seeds", "1")),
    Bench("multi_worker", "multi_worker.py", ("--max_examples", "12000", "--epochs", "4")),
    Bench("serving", "serving.py", ("--calls", "300")),
    Bench("tune_memory", "tune_memory.py", ("--trials", "30", "--trials_per_process", "0")),
    Bench(
        "tune_memory_restarts",
        "tune_memory.py",
        ("--trials", "30", "--trials_per_process", "10"),
    ),
)


def all_benches() -> list[Bench]:
    """The table above, plus any script in bench/ it does not name (default options)."""
    named = {bench.script for bench in BENCHES}
    extra = [
        Bench(path.stem, path.name)
        for path in sorted(BENCH_DIR.glob("*.py"))
        if path.name not in named and path.name not in HELPERS
    ]
    return [*BENCHES, *extra]


def select(benches: list[Bench], only: str) -> list[Bench]:
    """The benches named in ``only`` (bench names or script stems, comma-separated)."""
    if not only:
        return benches
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    known = {bench.name for bench in benches} | {Path(bench.script).stem for bench in benches}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(
            f"run_all.py: error: unknown bench {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return [b for b in benches if b.name in wanted or Path(b.script).stem in wanted]


def git_state() -> tuple[str, bool | None]:
    """The commit checked out and whether the working tree differs from it (read-only git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None
    return commit, bool(status.strip())


def last_json_line(stdout: str) -> tuple[dict | None, list[str]]:
    """The bench's JSON object (its last non-empty stdout line) and the other lines."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None, []
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None, lines
    return (result, lines[:-1]) if isinstance(result, dict) else (None, lines)


def run_bench(bench: Bench, commit: str, dirty: bool | None, timeout: float | None) -> dict:
    """Runs one bench in a fresh process; returns its JSON-lines record."""
    command = [sys.executable, str(BENCH_DIR / bench.script), *bench.args]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = datetime.datetime.now(datetime.UTC)
    clock = time.monotonic()
    record = {
        "bench": bench.name,
        "script": f"bench/{bench.script}",
        "args": list(bench.args),
        "started": started.isoformat(timespec="seconds"),
        "seconds": None,
        "commit": commit,
        "dirty": dirty,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        # stderr is inherited: the bench's progress shows while it runs.
        completed = subprocess.run(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        record["seconds"] = round(time.monotonic() - clock, 1)
        output = error.stdout.decode() if isinstance(error.stdout, bytes) else error.stdout or ""
        _echo(bench, output.splitlines())
        return {**record, "ok": False, "returncode": None, "error": f"timed out after {timeout} s"}
    record["seconds"] = round(time.monotonic() - clock, 1)
    result, other_lines = last_json_line(completed.stdout)
    _echo(bench, other_lines)
    record["returncode"] = completed.returncode
    if completed.returncode != 0:
        return {**record, "ok": False, "error": f"exited with {completed.returncode}"}
    if result is None:
        return {**record, "ok": False, "error": "no JSON object as the last line of its stdout"}
    if other_lines:
        record["stdout_other_lines"] = len(other_lines)
    return {**record, "ok": True, "result": result}


def _echo(bench: Bench, lines: list[str]) -> None:
    for line in lines:
        print(f"[{bench.name} stdout] {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the benches in bench/ and write one JSON-lines file of their figures.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--only", default="", help="comma-separated bench names (or script names) to run"
    )
    parser.add_argument(
        "--output",
        default=str(DEFAULT_OUTPUT),
        help="JSON-lines file written (replaced) with one line per bench run",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0,
        help="seconds after which a bench is stopped and reported failed (0: none)",
    )
    parser.add_argument(
        "--list", action="store_true", help="print the benches and their options; run nothing"
    )
    args = parser.parse_args(argv)
    benches = select(all_benches(), args.only)
    named = {bench.script for bench in BENCHES}

    if args.list:
        for bench in benches:
            note = "" if bench.script in named else "   (not in the table: default options)"
            print(f"{bench.name:22} bench/{bench.script} {' '.join(bench.args)}{note}".rstrip())
        return 0

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    commit, dirty = git_state()
    failed = []
    with output.open("w", encoding="utf-8") as sink:
        for number, bench in enumerate(benches, 1):
            if bench.script not in named:
                print(f"note: bench/{bench.script} is not in run_all.py's table", file=sys.stderr)
            print(
                f"== [{number}/{len(benches)}] {bench.name}: bench/{bench.script} "
                f"{' '.join(bench.args)}",
                file=sys.stderr,
                flush=True,
            )
            record = run_bench(bench, commit, dirty, args.timeout or None)
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            status = "ok" if record["ok"] else f"FAILED ({record['error']})"
            print(f"== {bench.name}: {status} in {record['seconds']} s", file=sys.stderr)
            if not record["ok"]:
                failed.append(bench.name)
    print(
        f"{len(benches) - len(failed)} of {len(benches)} benches ok; results in {output}"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        file=sys.stderr,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
