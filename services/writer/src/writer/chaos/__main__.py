"""``python -m writer.chaos run`` runs the writer's fault cases and prints their counts;
``python -m writer.chaos count`` prints the counts of one prefix (used by the cases to
read a ClickHouse directory owned by another process)."""

import argparse
import asyncio
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from runtime.clickhouse import ClickHouse, connect
from writer import schema
from writer.chaos import cases, data

_COLUMNS = ("case", "records", "current", "versions", "history_rows", "lost", "doubled")


async def _count(url: str, prefix: str) -> None:
    ch = ClickHouse(connect(url))
    try:
        print(json.dumps(asdict(await data.counts(ch, prefix))))
    finally:
        ch.close()


async def _run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="wellstream-chaos-"))
    target = cases.Target(args.bootstrap, f"chdb://{workdir / 'clickhouse'}", workdir)
    ch = ClickHouse(connect(target.clickhouse_url))
    await schema.migrate(ch)
    chosen = set(args.cases.split(","))
    results = []
    try:
        if "replay" in chosen:
            results.append(await cases.replay(target, ch, args.records))
        if "outage" in chosen:
            outage = cases.clickhouse_outage(
                target, ch, args.records, args.outage_seconds, args.retry_seconds
            )
            results.append(await outage)
        if "kill" in chosen:
            results.append(await cases.kill_writer(target, args.records))
    finally:
        ch.close()
    print(" | ".join(f"{c:>12}" for c in (*_COLUMNS, "wells exact", "seconds")) + " | note")
    for result in results:
        row = cases.as_row(result)
        cells = [str(row[c]) for c in (*_COLUMNS, "wells_exact", "seconds")]
        print(" | ".join(f"{c:>12}" for c in cells) + f" | {result.note}")
    ok = all(r.lost == 0 and r.doubled == 0 and r.wells_exact for r in results)
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m writer.chaos")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the fault cases and print a table of counts")
    run.add_argument(
        "--records", type=int, default=int(os.environ.get("WELLSTREAM_CHAOS_RECORDS", 1_000_000))
    )
    run.add_argument("--cases", default="replay,outage,kill")
    run.add_argument("--outage-seconds", type=float, default=30.0)
    run.add_argument("--retry-seconds", type=float, default=10.0)
    run.add_argument(
        "--bootstrap",
        default=os.environ.get("WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
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
    sys.exit(asyncio.run(_run(args)))


main()
