"""``python -m wellstream.chaos run`` runs the writer's fault cases and prints their counts;
``python -m wellstream.chaos count`` prints the counts of one prefix (used by the cases to
read a ClickHouse directory owned by another process)."""

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from runtime.clickhouse import ClickHouse, connect
from wellstream import infra
from wellstream.chaos import cases, data, stack
from writer import schema

_CASES = ("replay", "outage", "kill", "rebalance", "validator-kill", "redis", "broker")
_COLUMNS = ("case", "records", "current", "versions", "history_rows", "lost", "doubled")


async def _count(url: str, prefix: str) -> None:
    ch = ClickHouse(connect(url))
    try:
        print(json.dumps(asdict(await data.counts(ch, prefix))))
    finally:
        ch.close()


async def _writer_cases(
    args: argparse.Namespace, target: cases.Target, ch: ClickHouse
) -> list[cases.Result]:
    chosen, results = set(args.cases.split(",")), []
    if "replay" in chosen:
        results.append(await cases.replay(target, ch, args.records))
    if "outage" in chosen:
        outage = cases.clickhouse_outage(
            target, ch, args.records, args.outage_seconds, args.retry_seconds
        )
        results.append(await outage)
    if "kill" in chosen:
        results.append(await cases.kill_writer(target, args.records))
    if "rebalance" in chosen:
        results.append(await cases.rebalance(target, ch, args.records))
    return results


async def _stack_cases(
    args: argparse.Namespace, target: stack.Stack, ch: ClickHouse
) -> list[cases.Result]:
    chosen, results = set(args.cases.split(",")), []
    if "validator-kill" in chosen:
        results.append(await stack.kill_validator(target, ch, args.records))
    if "redis" in chosen:
        own = target.workdir / "redis-case"
        with infra.redis(own) as url:
            case = stack.redis_down(
                replace(target, redis_url=url), ch, args.records, own, args.outage_seconds
            )
            results.append(await case)
    if "broker" in chosen:
        own = target.workdir / "kafka-case"
        with stack.dedicated_kafka(own) as (bootstrap, controller):
            case = stack.broker_restart(
                replace(target, bootstrap=bootstrap), ch, args.records, own, controller
            )
            results.append(await case)
    return results


def _print(results: list[cases.Result]) -> None:
    print(" | ".join(f"{c:>12}" for c in (*_COLUMNS, "wells exact", "seconds")) + " | note")
    for result in results:
        row = cases.as_row(result)
        cells = [str(row[c]) for c in (*_COLUMNS, "wells_exact", "seconds")]
        print(" | ".join(f"{c:>12}" for c in cells) + f" | {result.note}")


async def _run(args: argparse.Namespace, bootstrap: str, redis_url: str) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="wellstream-chaos-"))
    target = stack.Stack(bootstrap, f"chdb://{workdir / 'clickhouse'}", workdir, redis_url)
    ch = ClickHouse(connect(target.clickhouse_url))
    await schema.migrate(ch)
    try:
        results = await _writer_cases(args, target, ch)
        results += await _stack_cases(args, target, ch)
    finally:
        ch.close()
    _print(results)
    ok = all(r.lost == 0 and r.doubled == 0 and r.wells_exact for r in results)
    return 0 if ok else 1


def _run_with_infra(args: argparse.Namespace) -> int:
    """Against the broker and Redis named, or ones of the run's own."""
    with contextlib.ExitStack() as own:
        workdir = Path(args.workdir or tempfile.mkdtemp(prefix="wellstream-chaos-"))
        args.workdir = str(workdir)
        bootstrap = args.bootstrap or own.enter_context(infra.kafka(workdir / "kafka"))
        redis_url = args.redis or own.enter_context(infra.redis(workdir / "redis"))
        return asyncio.run(_run(args, bootstrap, redis_url))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m wellstream.chaos")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the fault cases and print a table of counts")
    run.add_argument(
        "--records", type=int, default=int(os.environ.get("WELLSTREAM_CHAOS_RECORDS", 1_000_000))
    )
    run.add_argument("--cases", default=",".join(_CASES), help=f"among {','.join(_CASES)}")
    run.add_argument("--outage-seconds", type=float, default=30.0)
    run.add_argument("--retry-seconds", type=float, default=10.0)
    run.add_argument(
        "--bootstrap",
        default=os.environ.get("WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"),
        help="a running broker (default: start one for the run)",
    )
    run.add_argument(
        "--redis",
        default=os.environ.get("WELLSTREAM_REDIS_URL"),
        help="a running Redis (default: start one for the run)",
    )
    run.add_argument(
        "--workdir", help="where ClickHouse data and writer logs go (default: a temp dir)"
    )
    count = sub.add_parser("count", help="print the counts of one prefix as JSON")
    count.add_argument("--clickhouse-url", required=True)
    count.add_argument("--prefix", required=True)
    args = parser.parse_args()
    if args.command == "count":
        asyncio.run(_count(args.clickhouse_url, args.prefix))
        return
    sys.exit(_run_with_infra(args))


main()
