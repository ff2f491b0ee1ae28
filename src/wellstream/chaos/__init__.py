"""The writer's fault cases on a real broker and ClickHouse, at any size.

``tests/integration/test_writer_faults.py`` runs them at 100k records; ``python -m
wellstream.chaos run --records 1000000`` runs the same cases and prints a table of counts.
"""
