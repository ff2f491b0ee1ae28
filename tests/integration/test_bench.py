"""The stage benchmarks stay runnable. At a small size each still does its own
accounting (the writer's: every row inserted, every batch committed) and reports both
of its sides. They run in a process of their own: the embedded engine takes one data
directory per process, and the writer benchmark opens its own."""

import os
import re
import subprocess
import sys


def test_the_stage_benchmarks_run_and_report_both_sides() -> None:
    env = {**os.environ, "WELLSTREAM_BENCH_RECORDS": "6000", "WELLSTREAM_BENCH_RUNS": "1"}
    command = "from wellstream.cli import main; main(['bench', 'validator', 'writer'])"

    done = subprocess.run(
        [sys.executable, "-c", command], env=env, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.strip() for line in done.stdout.split("summary")[0].splitlines()]
    results = [line for line in lines if " | " in line]
    assert [line.split(" ")[0] for line in results] == ["validator", "validator", "writer", "the"]
    for line in results:
        # ratio = figure / floor: a number only when both sides measured something
        ratio = re.search(r"\| ratio (\d+\.\d+)", line)
        assert ratio is not None, line
        assert float(ratio.group(1)) > 0, line
