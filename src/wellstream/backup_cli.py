"""The ``wellstream backup`` and ``wellstream restore`` commands (``wellstream.backup``),
parsed here without importing the clients they use."""

import asyncio
from pathlib import Path
from typing import Any


def add_commands(commands: Any) -> None:
    """``backup`` and ``restore`` on the ``wellstream`` command's subparsers."""
    where = "a new directory (File), disk:NAME/PATH (a server's disk) or an https:// S3 URL"
    made = commands.add_parser("backup", help="back ClickHouse up with the offsets it matches")
    made.add_argument("to", help=where)
    back = commands.add_parser("restore", help="restore a backup; reset the writers' offsets")
    back.add_argument("source", help="what `wellstream backup` was given")
    back.add_argument("--replace", action="store_true", help="drop the tables it restores")
    back.add_argument(
        "--allow-gap", action="store_true", help="restore though retention deleted records"
    )
    for parser in (made, back):
        parser.add_argument(
            "--manifest", type=Path, help="the offsets manifest (default: <backup>.manifest.json)"
        )


def main(args: Any) -> None:
    """Run ``wellstream backup`` or ``wellstream restore``; one line on failure."""
    from runtime.settings import load
    from wellstream import offsets
    from wellstream.backup import backup, restore
    from wellstream.backup_target import BackupError
    from writer.config import WriterSettings

    settings = load(WriterSettings)
    try:
        if args.command == "backup":
            print(asyncio.run(backup(settings, args.to, args.manifest)))
        else:
            asyncio.run(
                restore(
                    settings,
                    args.source,
                    args.manifest,
                    replace=args.replace,
                    allow_gap=args.allow_gap,
                )
            )
    except (BackupError, offsets.OffsetsError) as exc:
        raise SystemExit(f"wellstream {args.command}: {exc}") from None
