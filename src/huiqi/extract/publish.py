"""Publish a reviewed draft into the policy base, recording who reviewed and who approved it."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

from huiqi.errors import HuiqiError
from huiqi.extract.draft import dump
from huiqi.extract.reading import ExtractError

DRAFT_MARK = "extract 草稿，待审核"


def draft_marks(folder: Path, facts: Path) -> list[str]:
    """Where a draft still says it is unreviewed: ``file:line`` of each remaining mark."""
    found = []
    for path in (folder / "policy.yaml", facts):
        if path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if DRAFT_MARK in line and not line.lstrip().startswith("#"):  # the file's header comment names it
                    found.append(f"{path}:{number}")
    return found


def publish(draft: Path, policies: Path, *, reviewer: str, approver: str, today: dt.date | None = None) -> Path:
    """Copy a reviewed draft folder (and its fact file) into ``policies``; refuse an unreviewed or failing one.

    The draft must validate, carry no “extract 草稿，待审核” mark (each rule and fact the reviewer accepted has
    its mark removed), have cases that all pass, and not replace a policy already published. The published
    folder gets ``PUBLISHED.yaml``: reviewer, approver, date and the hash of ``source.txt``.
    """
    from huiqi.cases import run_all
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase

    if not reviewer.strip() or not approver.strip():
        raise ExtractError("发布须写明审核人（--reviewer）和批准人（--approver）")
    if reviewer.strip() == approver.strip():
        raise ExtractError("审核人与批准人应为不同的人")
    draft = draft.resolve()
    doc_id = draft.name
    facts = draft.parent / "_facts" / f"{doc_id}.yaml"
    if not (draft / "policy.yaml").exists():
        raise ExtractError(f"{draft} 不是草稿目录（缺少 policy.yaml）：请给出 huiqi extract 写出的 <目录>/<文件编号>")
    marks = draft_marks(draft, facts)
    if marks:
        raise ExtractError(
            f"草稿仍有 {len(marks)} 处未审核的标记“{DRAFT_MARK}”：逐条审核并删除这些标记后再发布（"
            + "；".join(marks[:5])
            + "）"
        )
    base = PolicyBase.load(draft.parent, strict=False)
    problems = [e for e in base.errors if doc_id in (e.where or "") or doc_id in e.message] or base.errors
    if problems:
        raise ExtractError(f"草稿未通过检查：{problems[0].message}（先运行 huiqi validate --policies {draft.parent}）")
    failed = [o for o in run_all(Engine(base), doc_id) if not o.passed]
    if failed:
        raise ExtractError(
            f"草稿有 {len(failed)} 个案例未通过（如 {failed[0].name}）：先运行 huiqi cases --policies {draft.parent}"
        )
    target = policies / doc_id
    target_facts = policies / "_facts" / f"{doc_id}.yaml"
    if target.exists() or target_facts.exists():
        raise ExtractError(f"政策库中已有 {doc_id}：请用 --id 另取编号（新版本请按 docs/authoring.md 的版本目录处理）")
    shutil.copytree(draft, target)
    if facts.exists():
        shutil.copyfile(facts, target_facts)
    source = (target / "source.txt").read_bytes()
    record = {
        "reviewed_by": reviewer.strip(),
        "approved_by": approver.strip(),
        "published_on": (today or dt.date.today()).isoformat(),
        "source_sha256": hashlib.sha256(source).hexdigest(),
        "from_draft": str(draft),
    }
    (target / "PUBLISHED.yaml").write_text("# huiqi publish：审核与批准记录\n" + dump(record), encoding="utf-8")
    try:
        check = PolicyBase.load(policies, strict=False)
        if check.errors:
            raise ExtractError(f"发布后政策库未通过检查：{check.errors[0].message}")
    except HuiqiError:
        shutil.rmtree(target)
        target_facts.unlink(missing_ok=True)
        raise
    return target
