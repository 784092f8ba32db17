"""Both cores: the forked task runner and the per-category passes with --jobs.

The results must be the same bit for bit with one job and with two, a worker that dies
must cost a rerun, not the run, and a task's exception must reach the caller with its
own type.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest

from geoplan._errors import InputError
from geoplan.reach._parallel import can_fork, resolve_jobs, run_tasks

needs_fork = pytest.mark.skipif(not can_fork(), reason="forked workers need Linux")


def test_run_tasks_in_order_with_any_number_of_jobs() -> None:
    for jobs in (1, 2, 3, 8):
        assert run_tasks(lambda i: (i, i * i), 5, jobs=jobs) == [(i, i * i) for i in range(5)]
    assert run_tasks(lambda i: i, 0, jobs=2) == []


@needs_fork
def test_tasks_really_run_in_other_processes() -> None:
    parent = os.getpid()
    pids = run_tasks(lambda i: os.getpid(), 4, jobs=2)
    assert parent not in pids


@needs_fork
def test_a_worker_that_dies_costs_a_rerun_not_the_run() -> None:
    parent = os.getpid()

    def work(i: int) -> int:
        if i == 1 and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-task
        return i * 10

    assert run_tasks(work, 4, jobs=2) == [0, 10, 20, 30]


@needs_fork
def test_a_failing_task_raises_its_own_error_in_the_caller() -> None:
    def work(i: int) -> int:
        if i == 2:
            raise InputError("bad task", column="x")
        return i

    with pytest.raises(InputError, match="bad task"):
        run_tasks(work, 4, jobs=2)


@needs_fork
def test_large_arrays_come_back_through_files_and_none_are_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from geoplan.reach import _parallel

    folders: list[str] = []
    make = _parallel._spill_folder

    def spy() -> str:
        folders.append(make())
        return folders[-1]

    monkeypatch.setattr(_parallel, "_spill_folder", spy)
    parent = os.getpid()

    def work(i: int) -> tuple[np.ndarray, np.ndarray, str, np.ndarray]:
        if i == 3 and os.getpid() != parent:
            # a worker that dies after spilling a file: the folder still goes
            np.arange(100_000).tofile(os.path.join(folders[0], "orphan.bin"))
            os.kill(os.getpid(), signal.SIGKILL)
        big = np.arange(50_000, dtype=np.float64) * i  # 400 kB: through a file
        return big, np.arange(3) + i, f"t{i}", big.reshape(250, 200).T  # not contiguous

    got = run_tasks(work, 6, jobs=2)
    for i, (big, small, text, view) in enumerate(got):
        np.testing.assert_array_equal(big, np.arange(50_000, dtype=np.float64) * i)
        np.testing.assert_array_equal(small, np.arange(3) + i)
        np.testing.assert_array_equal(view, big.reshape(250, 200).T)
        assert text == f"t{i}" and big.flags.writeable
    assert len(folders) == 1 and not os.path.exists(folders[0])


def test_resolve_jobs() -> None:
    assert resolve_jobs(1) == 1
    assert resolve_jobs(None) >= 1
    assert resolve_jobs(0) == resolve_jobs(None)
    with pytest.raises(InputError):
        resolve_jobs(-1)


@needs_fork
@pytest.mark.filterwarnings("ignore::geoplan._errors.DataQualityWarning")  # F0310 off-network
def test_nearest_facilities_identical_with_one_and_two_jobs() -> None:
    from geoplan.network import network_from_lines
    from geoplan.reach import nearest_facilities
    from geoplan.sample import make_sample_district

    d = make_sample_district()
    net = network_from_lines(d.streets)
    kw = {"limit_m": 1125.0, "max_snap_m": 300.0, "walk_speed_m_per_min": 75.0}
    one = nearest_facilities(net, d.buildings, d.facilities, jobs=1, **kw)
    two = nearest_facilities(net, d.buildings, d.facilities, jobs=2, **kw)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    walk = [c for c in one.columns if c.startswith("walk_m__")]
    assert len(walk) >= 5
    a = one[walk].to_numpy(float)
    b = two[walk].to_numpy(float)
    assert np.array_equal(a.view(np.uint64), b.view(np.uint64))  # bit for bit
