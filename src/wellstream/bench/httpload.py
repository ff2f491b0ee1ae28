"""A lean HTTP/1.1 load generator, run in a process of its own so that the server and the
clients do not share an interpreter: N keep-alive connections, each sending one GET
after another and timing it, for a fixed time.

    python -m wellstream.bench.httpload --port P --key K --connections 32 --seconds 5 \
        --mode hits|misses --path '/api/v1/wells/{}/production' < codes

Codes come on standard input, one a line. ``hits`` asks for each code once (warming a
cache), then for random codes; ``misses`` walks the codes in order, each once.
Prints one JSON object: requests, seconds, latency percentiles in ms and the count of
each status.

With ``--key`` given more than once, each code is asked with every key in turn, the
first key alternating from code to code, so the callers' figures are paired under the
same load; ``keys`` then lists, per key, its requests and the seconds spent waiting for
them.
"""

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator

import orjson


class Load:
    def __init__(self, port: int, keys: list[str], template: str) -> None:
        self.port = port
        self.template = template
        self.heads = [f"Host: 127.0.0.1:{port}\r\nX-API-Key: {k}\r\n\r\n".encode() for k in keys]
        self.latencies: list[float] = []
        self.waited = [0.0] * len(keys)
        self.answered = [0] * len(keys)
        self.statuses: Counter[int] = Counter()

    def request(self, code: str, head: bytes) -> bytes:
        return b"GET " + self.template.format(code).encode() + b" HTTP/1.1\r\n" + head

    async def connection(self, codes: Iterator[str], until: float, record: bool) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        keys = list(range(len(self.heads)))
        try:
            while time.perf_counter() < until:
                code = next(codes, None)
                if code is None:
                    return
                keys.reverse()  # who asks first alternates
                for key in keys:
                    started = time.perf_counter()
                    writer.write(self.request(code, self.heads[key]))
                    head = await reader.readuntil(b"\r\n\r\n")
                    await reader.readexactly(_content_length(head))
                    if record:
                        took = time.perf_counter() - started
                        self.latencies.append(took)
                        self.waited[key] += took
                        self.answered[key] += 1
                        self.statuses[int(head[9:12])] += 1
        finally:
            writer.close()

    async def phase(self, codes: Iterator[str], seconds: float, connections: int) -> float:
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(self.connection(codes, until, True) for _ in range(connections)))
        return time.perf_counter() - started


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            return int(line[15:])
    return 0


def _random(codes: list[str], seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    while True:
        yield rng.choice(codes)


async def main(args: argparse.Namespace) -> dict[str, object]:
    codes = sys.stdin.read().split()
    load = Load(args.port, args.key, args.path)
    if args.mode == "hits":
        warm = iter(codes)
        await asyncio.gather(
            *(load.connection(warm, float("inf"), False) for _ in range(args.connections))
        )
        stream: Iterator[str] = _random(codes, seed=args.seed)
    else:
        stream = itertools.chain(codes)
    elapsed = await load.phase(stream, args.seconds, args.connections)
    latencies = sorted(load.latencies)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": pct(0.5) if latencies else 0.0,
        "p99_ms": pct(0.99) if latencies else 0.0,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "statuses": {str(k): v for k, v in load.statuses.items()},
        "keys": [
            {"requests": n, "seconds": waited}
            for n, waited in zip(load.answered, load.waited, strict=True)
        ],
    }


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="httpload")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True, action="append", help="again to pair")
    parser.add_argument("--path", required=True, help="path with {} for the code")
    parser.add_argument("--mode", choices=["hits", "misses"], required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.stdout.buffer.write(orjson.dumps(asyncio.run(main(parse(sys.argv[1:])))) + b"\n")
