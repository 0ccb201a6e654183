"""``gateway.cpus`` and ``WORKERS=auto``: one worker per CPU the process may use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.config import AUTO_WORKERS_CAP, Settings
from gateway.cpus import available_cpus
from tests.store.server import ServerProcess

AFFINITY = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("max 100000\n", AFFINITY),  # no quota
        ("50000 100000\n", 1),  # half a CPU: still one worker
        ("100000 100000\n", 1),
        (f"{100000 * (AFFINITY + 5)} 100000\n", AFFINITY),  # a quota above the mask
        ("garbage\n", AFFINITY),
        ("0 0\n", AFFINITY),
    ],
)
def test_the_cgroup_quota_and_the_affinity_mask_both_bound_it(
    tmp_path: Path, cpu_max: str, expected: int
) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max)
    assert available_cpus(path) == expected


def test_a_quota_below_the_mask_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(16)))
    path = tmp_path / "cpu.max"
    path.write_text("300000 100000\n")
    assert available_cpus(path) == 3
    assert available_cpus(tmp_path / "absent") == 16


def test_auto_is_the_default_and_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_WORKERS", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.workers == "auto"
    assert settings.worker_count == min(available_cpus(), AUTO_WORKERS_CAP)
    monkeypatch.setattr("gateway.config.available_cpus", lambda: 64)
    assert settings.worker_count == AUTO_WORKERS_CAP
    assert Settings(_env_file=None, workers=3).worker_count == 3  # type: ignore[call-arg]


def test_serve_workers_auto_starts_one_worker_per_cpu(tmp_path: Path) -> None:
    expected = min(available_cpus(), AUTO_WORKERS_CAP)
    server = ServerProcess(
        tmp_path / "data" / "messages.sqlite3", tmp_path, workers=expected, workers_argument="auto"
    )
    try:
        assert len(server.worker_pids()) == (expected if expected > 1 else 0)
        assert expected >= 1
    finally:
        server.kill()
