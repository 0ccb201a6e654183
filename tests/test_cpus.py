"""``gateway.cpus`` and ``WORKERS=auto``: one worker per CPU the process may use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.config import AUTO_WORKERS_CAP, Settings
from gateway.cpus import available_cpus
from tests.store.server import ServerProcess

AFFINITY = len(os.sched_getaffinity(0))


def _host(tmp_path: Path, cgroup: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A fake ``/sys/fs/cgroup`` and ``/proc/self/cgroup``."""
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text(cgroup)
    return root, self_cgroup


@pytest.fixture
def sixteen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(16)))


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("max 100000\n", 16),  # no quota
        ("50000 100000\n", 1),  # half a CPU: still one worker
        ("300000 100000\n", 3),
        ("2000000 100000\n", 16),  # a quota above the mask
        ("garbage\n", 16),
        ("0 0\n", 16),
    ],
)
def test_a_v2_quota_bounds_it(tmp_path: Path, sixteen: None, cpu_max: str, expected: int) -> None:
    root, self_cgroup = _host(tmp_path, "0::/\n", {"cpu.max": cpu_max})
    assert available_cpus(root, self_cgroup) == expected


def test_a_v2_quota_of_a_parent_cgroup_counts(tmp_path: Path, sixteen: None) -> None:
    """A systemd service: its own cgroup has no quota, its slice does."""
    files = {
        "cpu.max": "max 100000\n",
        "app.slice/cpu.max": "200000 100000\n",
        "app.slice/gateway.service/cpu.max": "max 100000\n",
    }
    root, self_cgroup = _host(tmp_path, "0::/app.slice/gateway.service\n", files)
    assert available_cpus(root, self_cgroup) == 2


def test_a_hybrid_hosts_unified_tree_counts(tmp_path: Path, sixteen: None) -> None:
    root, self_cgroup = _host(
        tmp_path, "1:cpu:/\n0::/pod\n", {"unified/pod/cpu.max": "400000 100000"}
    )
    assert available_cpus(root, self_cgroup) == 4


@pytest.mark.parametrize("mount", ["cpu", "cpu,cpuacct"])
def test_a_v1_quota_bounds_it(tmp_path: Path, sixteen: None, mount: str) -> None:
    files = {
        f"{mount}/cpu.cfs_quota_us": "-1\n",  # none at the top
        f"{mount}/kubepods/pod1/cpu.cfs_quota_us": "100000\n",
        f"{mount}/kubepods/pod1/cpu.cfs_period_us": "100000\n",
    }
    root, self_cgroup = _host(tmp_path, "4:memory:/x\n3:cpu,cpuacct:/kubepods/pod1\n", files)
    assert available_cpus(root, self_cgroup) == 1


def test_no_cgroup_information_leaves_the_mask(tmp_path: Path, sixteen: None) -> None:
    assert available_cpus(tmp_path / "absent", tmp_path / "absent-too") == 16


def test_this_machine_gives_at_least_one_and_at_most_its_mask() -> None:
    assert 1 <= available_cpus() <= AFFINITY


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
    finally:
        server.kill()
