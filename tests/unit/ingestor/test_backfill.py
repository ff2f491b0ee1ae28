"""The backfill command's pure parts: arguments and the progress bar."""

import io
from pathlib import Path

from ingestor.backfill import ProgressBar, parse_args
from ingestor.publish import Tally


def test_progress_bar_reports_share_counts_and_rate() -> None:
    out = io.StringIO()
    bar = ProgressBar(1000, out, every=0)
    bar.update(500, Tally(accepted=40, rejected=2))
    bar.update(1000, Tally(accepted=90, rejected=2), final=True)
    first, last = out.getvalue().splitlines()
    assert "50.0%" in first
    assert "40 published, 2 rejected" in first
    assert "100.0%" in last
    assert "records/s" in last


def test_progress_bar_throttles_between_updates() -> None:
    out = io.StringIO()
    bar = ProgressBar(1000, out, every=60)
    for done in range(0, 1000, 100):
        bar.update(done, Tally(accepted=done))
    assert len(out.getvalue().splitlines()) == 1


def test_arguments() -> None:
    args = parse_args(["f.csv.gz", "--format", "csv", "--encoding", "latin-1"])
    assert (args.file, args.format, args.encoding, args.topic) == (
        Path("f.csv.gz"),
        "csv",
        "latin-1",
        None,
    )
