"""Paired benchmark figures: the load generator asks each code with every key in turn,
the first alternating, and a paired figure's ratio is the median of each run's."""

import asyncio
import itertools

import pytest

from wellstream.bench.httpload import Load
from wellstream.bench.report import Paired


def test_a_paired_ratio_is_the_median_of_each_runs() -> None:
    # the load moves both figures of a run together: each run's ratio is 0.5 or 0.6
    paired = Paired("reader", "q/s", [50.0, 10.0, 30.0], "floor", [100.0, 20.0, 50.0])
    assert paired.ratio == pytest.approx(0.5)
    assert paired.line().endswith("ratio 0.50, each run's [0.50..0.60]")


async def _asked(keys: list[str], codes: list[str]) -> tuple[list[tuple[str, str]], Load]:
    asked: list[tuple[str, str]] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            lines = head.decode().split("\r\n")
            key = next(line.split(": ", 1)[1] for line in lines if line.startswith("X-API-Key"))
            asked.append((key, lines[0].split()[1]))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
            if len(asked) == len(keys) * len(codes):
                break
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    load = Load(port, keys, "/wells/{}")
    async with server:
        await load.phase(itertools.chain(codes), seconds=30, connections=1)
    return asked, load


def test_each_code_is_asked_with_every_key_the_first_alternating() -> None:
    asked, load = asyncio.run(_asked(["a", "b"], ["W1", "W2", "W3"]))
    assert asked == [
        ("b", "/wells/W1"), ("a", "/wells/W1"),
        ("a", "/wells/W2"), ("b", "/wells/W2"),
        ("b", "/wells/W3"), ("a", "/wells/W3"),
    ]  # fmt: skip
    assert load.answered == [3, 3]
    assert all(waited > 0 for waited in load.waited)
    assert load.statuses == {200: 6}
