"""wellstream command line: local mode, migrations, reference data, backfill, benchmarks."""
