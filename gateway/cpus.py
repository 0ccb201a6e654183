"""``available_cpus``: how many CPUs this process may really use.

``os.cpu_count()`` is the machine's; a container, a pod or a systemd service with a
``CPUQuota=`` gets fewer. Two limits apply: the CPUs the scheduler lets the process
run on (its affinity mask) and the CPU quota of its cgroup and of every cgroup above
it, whichever is smallest: cgroup v2 ``cpu.max`` (``200000 100000`` is two CPUs'
worth of time, whatever the number of CPUs visible) or cgroup v1
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``. ``WORKERS=auto`` serves with one worker
per CPU so found (BENCHMARKS.md, "Workers": a second worker on two CPUs gave
2.4-3.2x the requests/s of one).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["available_cpus"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")
_V1_CPU_MOUNTS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cpus(quota: str | None, period: str | None) -> int | None:
    """CPUs' worth of time, rounded up; ``None``: no quota (or one not understood)."""
    try:
        granted, per = int(quota or ""), int(period or "")
    except ValueError:
        return None
    if granted <= 0 or per <= 0:  # v1 says -1 for none
        return None
    return max(1, math.ceil(granted / per))


def _up_from(root: Path, relative: str) -> Iterator[Path]:
    """``root/relative`` and each folder above it, up to ``root``."""
    here = root / relative.strip("/")
    while True:
        yield here
        if here == root or root not in here.parents:
            return
        here = here.parent


def _quotas(root: Path, self_cgroup: Path) -> Iterator[int]:
    for line in (_read(self_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, relative = parts
        if controllers == "":  # v2 (unified): cpu.max, at root or, on hybrid hosts, unified/
            for base in (root, root / "unified"):
                for folder in _up_from(base, relative):
                    max_line = (_read(folder / "cpu.max") or "").split()
                    if len(max_line) == 2:
                        found = _cpus(max_line[0], max_line[1])
                        if found is not None:
                            yield found
        elif "cpu" in controllers.split(","):
            for mount in _V1_CPU_MOUNTS:
                for folder in _up_from(root / mount, relative):
                    quota = _read(folder / "cpu.cfs_quota_us")
                    found = _cpus(quota, _read(folder / "cpu.cfs_period_us"))
                    if found is not None:
                        yield found


def available_cpus(root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> int:
    """The least of the affinity mask's size and every cgroup quota above us; at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    return max(1, min([count, *_quotas(root, self_cgroup)]))
