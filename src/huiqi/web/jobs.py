"""Background jobs of the pages: long runs (a population simulation) off the request, so that no page waits.

``JobRunner`` keeps a small pool of worker threads (``max_workers``) and an in-memory registry of jobs, each
with a random id, its owner's username, a folder of its own (its uploads and results, under one temporary
folder of the runner) and what it reports as it goes: the stage (Chinese text), started and finished times,
and at the end a result or the Chinese message of its failure. A route submits a job and answers at once;
the page then polls the job's progress.

- **Owner only.** ``get(job_id, owner)`` finds a job only for the user who submitted it: another user's id
  is ``NotFound`` (未找到), exactly as an id that never existed.
- **Failures in Chinese.** A ``HuiqiError`` (a bad cell of an uploaded file, a reform that does not apply)
  becomes the job's message, with where it happened and the job's folder left out of the text; anything else
  is logged and the user reads that the run failed, never a traceback.
- **Expiry.** A finished job is kept ``keep`` (two hours by default) after it finished, then it is dropped
  with its folder; a user has at most ``per_owner`` jobs waiting or running at a time.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huiqi.errors import HuiqiError
from huiqi.store.errors import Conflict, NotFound

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATE_LABELS = {QUEUED: "排队中", RUNNING: "运行中", DONE: "已完成", FAILED: "失败"}
INTERNAL = "测算失败（内部错误，已记录）。请检查所选数据后重试；仍不行请联系系统管理员。"


@dataclass
class Job:
    """One background run and what it has reported so far."""

    id: str
    owner: str
    title: str
    folder: Path
    created: float
    state: str = QUEUED
    stage: str = "排队等待空闲的计算线程"
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result: Any = None
    #: what the job said it has done, in order (stage texts)
    history: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def report(self, stage: str) -> None:
        """Called by the work as it goes: the stage the page shows."""
        self.stage = stage
        self.history.append(stage)

    @property
    def done(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def elapsed(self) -> int:
        """Whole seconds since the job started (till it finished), 0 while it waits."""
        if self.started is None:
            return 0
        end = self.finished if self.finished is not None else self.clock()
        return int(end - self.started)


Work = Callable[[Job], Any]


class JobRunner:
    """A few worker threads and the jobs they run (see the module's docstring)."""

    def __init__(
        self, *, max_workers: int = 2, keep: float = 2 * 3600, per_owner: int = 3, root: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="huiqi-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._root = Path(tempfile.mkdtemp(prefix="huiqi-jobs-", dir=root))
        atexit.register(shutil.rmtree, self._root, True)  # no results left behind when the server stops
        self.keep = keep
        self.per_owner = per_owner
        self.clock = clock

    def submit(self, owner: str, title: str, work: Work, *, prepare: Callable[[Job], None] | None = None) -> Job:
        """Register a job for ``owner`` and queue ``work(job)``; ``prepare(job)`` runs first, here (e.g. to save
        an upload into the job's folder). Refused (``Conflict``) when the owner has too many unfinished jobs."""
        self.expire()
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.owner == owner and not j.done)
            if waiting >= self.per_owner:
                raise Conflict(f"您已有 {waiting} 项测算在排队或运行，请等其中一项完成后再提交", where="job")
            job_id = secrets.token_urlsafe(12)
            folder = self._root / job_id
            folder.mkdir()
            job = Job(job_id, owner, title, folder, created=self.clock(), clock=self.clock)
            self._jobs[job_id] = job
        if prepare is not None:
            try:
                prepare(job)
            except BaseException:
                self._drop(job)
                raise
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str, owner: str) -> Job:
        """The owner's job; any other id (another user's, expired, made up) is ``NotFound``."""
        self.expire()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound("未找到这项测算（可能已过期：结果保留2小时），请重新提交", where="job")
        return job

    def jobs_of(self, owner: str) -> list[Job]:
        """The owner's jobs, newest first."""
        self.expire()
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner]
        return sorted(mine, key=lambda j: j.created, reverse=True)

    def expire(self) -> None:
        """Drop every job finished more than ``keep`` seconds ago, with its folder."""
        now = self.clock()
        with self._lock:
            old = [j for j in self._jobs.values() if j.finished is not None and now - j.finished > self.keep]
        for job in old:
            self._drop(job)

    def shutdown(self) -> None:
        """Stop taking jobs, wait for the running ones, remove every folder."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self._root, ignore_errors=True)

    def _drop(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def _run(self, job: Job, work: Work) -> None:
        job.started = self.clock()
        job.state = RUNNING
        job.report("开始运行")
        try:
            job.result = work(job)
        except HuiqiError as exc:
            job.error = _message(exc, job.folder)
            job.state = FAILED
        except Exception:
            log.exception("job %s of %s failed", job.id, job.owner)
            job.error = INTERNAL
            job.state = FAILED
        else:
            job.state = DONE
            job.report("已完成")
        finally:
            job.finished = self.clock()


def _message(exc: HuiqiError, folder: Path) -> str:
    """The error as the user reads it: where (without the job's folder) and what."""
    text = f"{exc.where}：{exc.message}" if exc.where else exc.message
    for prefix in (f"{folder}/", str(folder)):
        text = text.replace(prefix, "")
    return text
