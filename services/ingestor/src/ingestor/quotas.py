"""Work in progress per API key, in this replica: how many uploads or imports a key runs
at once (429 beyond), and how much disk its spooled uploads take (413 beyond)."""

from collections import Counter
from dataclasses import dataclass

from fastapi import Request

from runtime.errors import ApiError


def key_name(request: Request) -> str:
    """The API key's name (set by the auth dependency), whose quotas a job counts on."""
    principal = getattr(request.state, "principal", None)
    return str(getattr(principal, "name", ""))


@dataclass
class Lease:
    """One job's share of its key's quota, given back once by ``release``; the job works
    for the key's ``organisation``."""

    quota: "Quota"
    key: str
    organisation: str
    bytes: int = 0
    released: bool = False

    def add(self, size: int) -> None:
        self.quota.grow(self, size)

    def release(self) -> None:
        self.quota.release(self)


class Quota:
    def __init__(self, what: str, max_jobs: int, max_bytes: int | None = None) -> None:
        self.what = what
        self.max_jobs = max_jobs
        self.max_bytes = max_bytes
        self._jobs: Counter[str] = Counter()
        self._bytes: Counter[str] = Counter()

    def in_use(self, key: str) -> tuple[int, int]:
        """Jobs and bytes the key holds."""
        return self._jobs[key], self._bytes[key]

    def acquire(self, key: str, organisation: str) -> Lease:
        if self._jobs[key] >= self.max_jobs:
            raise ApiError(
                429,
                f"this key already has {self.max_jobs} {self.what} in progress; "
                "retry once one has finished",
                details={"limit": self.max_jobs},
                headers={"Retry-After": "10"},
            )
        self._jobs[key] += 1
        return Lease(self, key, organisation)

    def grow(self, lease: Lease, size: int) -> None:
        if self.max_bytes is not None and self._bytes[lease.key] + size > self.max_bytes:
            raise ApiError(
                413,
                f"this key's {self.what} in progress would take more than "
                f"{self.max_bytes} bytes of disk",
                details={"limit_bytes": self.max_bytes},
            )
        lease.bytes += size
        self._bytes[lease.key] += size

    def release(self, lease: Lease) -> None:
        if lease.released:
            return
        lease.released = True
        self._jobs[lease.key] -= 1
        self._bytes[lease.key] -= lease.bytes
        if self._jobs[lease.key] <= 0:
            del self._jobs[lease.key], self._bytes[lease.key]
