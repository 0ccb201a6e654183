"""``available_cpus``: how many CPUs this process may really use.

``os.cpu_count()`` is the machine's; a container or a pinned service gets fewer.
Two limits apply: the CPUs the scheduler lets the process run on (its affinity
mask) and, under cgroup v2, the CPU quota (``cpu.max``: ``200000 100000`` is two
CPUs' worth of time, whatever the number of CPUs visible). ``WORKERS=auto`` serves
with one worker per CPU so found (BENCHMARKS.md, "Workers": a second worker on
two CPUs gave 2.4-3.2x the requests/s of one).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["available_cpus"]

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def _quota(cpu_max: Path) -> int | None:
    """CPUs' worth of time the cgroup grants, rounded up; ``None``: no quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def available_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The lesser of the affinity mask's size and the cgroup quota; at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = _quota(cpu_max)
    return max(1, min(count, quota) if quota is not None else count)
