"""The ``wellstream`` command."""

import argparse
import asyncio
import sys

from wellstream import backup_cli


def _migrate() -> None:
    from runtime.settings import load
    from writer.app import migrate
    from writer.config import WriterSettings

    applied = asyncio.run(migrate(load(WriterSettings)))
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))


def _run(parser: argparse.ArgumentParser, pairs: list[str]) -> None:
    from wellstream import local

    scale: dict[str, int] = {}
    for pair in pairs:
        name, _, count = pair.partition("=")
        scale[name] = int(count) if count.isdigit() else 0
    try:
        local.run(scale)
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="wellstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run Kafka, Redis, embedded ClickHouse and every service, each supervised"
    )
    run.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run N replicas of SERVICE (e.g. validator=2); replica i serves on port + 10*i",
    )
    serve = commands.add_parser(
        "serve", help="serve several services in this process (local mode's embedded engine)"
    )
    serve.add_argument("ports", nargs="+", metavar="SERVICE=PORT")
    commands.add_parser("migrate", help="apply ClickHouse migrations")
    backup_cli.add_commands(commands)
    commands.add_parser("settings", help="print the settings reference (docs/settings.md)")
    bench = commands.add_parser("bench", help="run the benchmarks")
    bench.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    if args.command == "run":
        _run(parser, args.scale)
    elif args.command == "serve":
        from wellstream import embedded

        try:
            embedded.main(args.ports)
        except ValueError as exc:
            parser.error(str(exc))
    elif args.command == "migrate":
        _migrate()
    elif args.command in ("backup", "restore"):
        backup_cli.main(args)
    elif args.command == "settings":
        from wellstream.settingsdoc import render

        sys.stdout.write(render())
    elif args.command == "bench":
        from wellstream.bench import main as bench_main

        sys.exit(bench_main(args.names))
