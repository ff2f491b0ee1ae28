"""The ``wellstream`` command."""

import argparse
import asyncio
import sys


def _migrate() -> None:
    from runtime.settings import Settings, load
    from writer.app import migrate

    applied = asyncio.run(migrate(load(Settings)))
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="wellstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run Kafka, Redis, embedded ClickHouse and every service")
    commands.add_parser("migrate", help="apply ClickHouse migrations")
    commands.add_parser("settings", help="print the settings reference (docs/settings.md)")
    bench = commands.add_parser("bench", help="run the benchmarks")
    bench.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    if args.command == "run":
        from wellstream.local import run

        run()
    elif args.command == "migrate":
        _migrate()
    elif args.command == "settings":
        from wellstream.settingsdoc import render

        sys.stdout.write(render())
    elif args.command == "bench":
        from wellstream.bench import main as bench_main

        sys.exit(bench_main(args.names))
