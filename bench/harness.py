"""The measuring loop every transfer benchmark shares: transfers/s sequentially and with N processes.

Standard library and Django only, so the peers (each in its own settings module, hordak in its own venv) run the
same loop. A runner gives `main` a `setup()` that prepares its database and returns the funded accounts, and a
`transfer(rng, accounts)` doing one transfer between a random pair in its own transaction.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import time
from collections.abc import Callable, Sequence

from django.db import connections

WARMUP_TRANSFERS = 20


def _loop(transfer: Callable, accounts: Sequence, seconds: float, seed: int) -> int:
    rng = random.Random(seed)
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        transfer(rng, accounts)
        done += 1
    return done


def _child(transfer, accounts, seconds, seed, barrier, results):
    rng = random.Random(seed)
    for _ in range(WARMUP_TRANSFERS):  # opens this process's own connection before the clock starts
        transfer(rng, accounts)
    barrier.wait()
    results.put(_loop(transfer, accounts, seconds, seed + 1))
    connections.close_all()


def throughput(transfer: Callable, accounts: Sequence, *, processes: int, seconds: float) -> float:
    """Transfers per second over `seconds`, by one process in-line or by `processes` forked ones together."""
    if processes == 1:
        for _ in range(WARMUP_TRANSFERS):
            transfer(random.Random(random.randrange(1 << 30)), accounts)
        return _loop(transfer, accounts, seconds, random.randrange(1 << 30)) / seconds
    connections.close_all()  # a forked child must never share the parent's socket
    for connection in connections.all():
        # nor its connection pool (DATABASE_POOL): the pool's connections and worker threads are the parent's; the
        # children open pools of their own
        connection.close_pool()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    children = [
        context.Process(target=_child, args=(transfer, accounts, seconds, random.randrange(1 << 30), barrier, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    total = sum(results.get(timeout=seconds + 120) for _ in children)
    for child in children:
        child.join()
        if child.exitcode:
            raise RuntimeError(f"a benchmark process failed (exit code {child.exitcode})")
    return total / seconds


def pick_pair(rng: random.Random, accounts: Sequence) -> tuple:
    a, b = rng.sample(range(len(accounts)), 2)
    return accounts[a], accounts[b]


def main(name: str, setup: Callable[[], Sequence], transfer: Callable, argv: Sequence[str] | None = None) -> None:
    """Prints one line per mode: `RESULT <name> <mode> <median> <run> <run> ...` (transfers/s)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--modes", default="seq,par")
    args = parser.parse_args(argv)
    accounts = setup()
    for mode in args.modes.split(","):
        processes = 1 if mode == "seq" else args.processes
        runs = [throughput(transfer, accounts, processes=processes, seconds=args.seconds) for _ in range(args.runs)]
        print(f"RESULT {name} {mode} {statistics.median(runs):.1f} " + " ".join(f"{r:.1f}" for r in runs), flush=True)
    print("INFO " + json.dumps({"name": name, "accounts": len(accounts)}), flush=True)
