"""The background runner of the pages (huiqi.web.jobs): progress as the job reports it, each job seen only by
its owner, a failure said in Chinese without the job's folder or a traceback, and old jobs dropped with
their folders."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from huiqi.errors import HuiqiError
from huiqi.store.errors import Conflict, NotFound
from huiqi.web.jobs import DONE, FAILED, INTERNAL, Job, JobRunner


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    jobs = JobRunner(max_workers=2, root=tmp_path)
    yield jobs
    jobs.shutdown()


def _wait(job: Job, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not job.done:
        assert time.monotonic() < deadline, f"job still {job.state} at {job.stage}"
        time.sleep(0.01)


def test_the_page_sees_each_stage_and_then_the_result(runner: JobRunner) -> None:
    gate, reached = threading.Event(), threading.Event()

    def work(job: Job) -> dict[str, int]:
        job.report("导入登记表")
        reached.set()
        gate.wait(5)
        job.report("已评估 文件甲（1/1）")
        return {"rows": 3}

    job = runner.submit("analyst", "模拟", work)
    assert reached.wait(5)
    seen = runner.get(job.id, "analyst")
    assert seen.stage == "导入登记表" and seen.state == "running" and seen.state_label == "运行中"
    assert not seen.done and seen.result is None
    gate.set()
    _wait(job)
    assert job.state == DONE and job.result == {"rows": 3}
    assert job.history == ["开始运行", "导入登记表", "已评估 文件甲（1/1）", "已完成"]
    assert job.folder.is_dir() and job.folder.parent.parent == runner._root.parent


def test_another_users_job_is_not_found(runner: JobRunner) -> None:
    job = runner.submit("analyst", "模拟", lambda job: 1)
    _wait(job)
    with pytest.raises(NotFound) as refused:
        runner.get(job.id, "official")
    assert "未找到" in refused.value.message
    with pytest.raises(NotFound):
        runner.get("made-up-id", "analyst")
    assert runner.jobs_of("official") == [] and runner.jobs_of("analyst") == [job]


def test_a_failure_is_said_in_chinese_without_the_folder(runner: JobRunner) -> None:
    def bad_file(job: Job) -> None:
        raise HuiqiError("营业收入应为数值，得到 'abc'", where=f"{job.folder}/企业.csv:第3行 列 revenue")

    job = runner.submit("analyst", "模拟", bad_file)
    _wait(job)
    assert job.state == FAILED and job.state_label == "失败"
    assert job.error == "企业.csv:第3行 列 revenue：营业收入应为数值，得到 'abc'"

    def crash(job: Job) -> None:
        raise ZeroDivisionError("division by zero")

    job = runner.submit("analyst", "模拟", crash)
    _wait(job)
    assert job.state == FAILED and job.error == INTERNAL and "division" not in job.error


def test_elapsed_seconds_and_expiry_drop_the_job_and_its_folder(tmp_path: Path) -> None:
    now = [1000.0]
    runner = JobRunner(root=tmp_path, keep=60, clock=lambda: now[0])
    try:
        job = runner.submit("analyst", "模拟", lambda job: (job.folder / "summary.xlsx").write_bytes(b"PK"))
        _wait(job)
        assert job.elapsed == 0
        now[0] += 30
        assert runner.get(job.id, "analyst") is job and (job.folder / "summary.xlsx").exists()
        now[0] += 31
        with pytest.raises(NotFound):
            runner.get(job.id, "analyst")
        assert not job.folder.exists()
    finally:
        runner.shutdown()


def test_a_running_job_counts_elapsed_seconds_and_other_users_are_not_blocked(tmp_path: Path) -> None:
    now = [0.0]
    gate = threading.Event()
    runner = JobRunner(root=tmp_path, max_workers=2, per_owner=1, clock=lambda: now[0])
    try:
        slow = runner.submit("analyst", "模拟", lambda job: gate.wait(5))
        while slow.started is None:
            time.sleep(0.01)
        now[0] += 7
        assert slow.elapsed == 7 and not slow.done
        with pytest.raises(Conflict) as refused:  # one unfinished job per user here
            runner.submit("analyst", "模拟", lambda job: None)
        assert "请等其中一项完成后再提交" in refused.value.message
        other = runner.submit("official", "模拟", lambda job: "ok")  # the second worker takes it at once
        _wait(other)
        assert other.result == "ok" and not slow.done
        gate.set()
        _wait(slow)
    finally:
        runner.shutdown()


def test_a_failed_preparation_leaves_no_job(runner: JobRunner) -> None:
    def prepare(job: Job) -> None:
        raise HuiqiError("文件为空")

    with pytest.raises(HuiqiError):
        runner.submit("analyst", "模拟", lambda job: None, prepare=prepare)
    assert runner.jobs_of("analyst") == []
