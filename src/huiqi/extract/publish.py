"""Publish a reviewed draft into the policy base, recording who reviewed and who approved it: as a new policy,
or as a new version of a policy already there (docs/authoring.md "Versions", docs/extract.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from huiqi import beijing
from huiqi.errors import HuiqiError
from huiqi.extract.draft import dump
from huiqi.extract.reading import ExtractError
from huiqi.policy.versions import Change

DRAFT_MARK = "extract 草稿，待审核"
#: what a version's name may not contain: it is also the name of its folder under ``versions/``
_BAD_NAME = re.compile(r"[/\\:*?\"<>|\s]")


def draft_marks(folder: Path, facts: Path) -> list[str]:
    """Where a draft still says it is unreviewed: ``file:line`` of each remaining mark."""
    found = []
    for path in (folder / "policy.yaml", facts):
        if path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if DRAFT_MARK in line and not line.lstrip().startswith("#"):  # the file's header comment names it
                    found.append(f"{path}:{number}")
    return found


def _check_draft(draft: Path, reviewer: str, approver: str) -> tuple[Path, Path]:
    """The checks every publication passes: two different people, no mark left, the draft validates and its
    cases pass. Returns the draft folder (resolved) and its fact file."""
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
    return draft, facts


def proposes_facts(path: Path) -> bool:
    """Whether a draft's fact file proposes anything (an empty ``facts: []`` is not published with a version)."""
    if not path.exists():
        return False
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and bool(data.get("facts") or data.get("extend"))


def _record(source: Path, reviewer: str, approver: str, draft: Path, today: dt.date | None) -> dict[str, Any]:
    return {
        "reviewed_by": reviewer.strip(),
        "approved_by": approver.strip(),
        "published_on": (today or beijing.today()).isoformat(),
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "from_draft": str(draft),
    }


def publish(draft: Path, policies: Path, *, reviewer: str, approver: str, today: dt.date | None = None) -> Path:
    """Copy a reviewed draft folder (and its fact file) into ``policies``; refuse an unreviewed or failing one.

    The draft must validate, carry no “extract 草稿，待审核” mark (each rule and fact the reviewer accepted has
    its mark removed), have cases that all pass, and not replace a policy already published. The published
    folder gets ``PUBLISHED.yaml``: reviewer, approver, date and the hash of ``source.txt``.
    """
    from huiqi.policy.base import PolicyBase

    draft, facts = _check_draft(draft, reviewer, approver)
    doc_id = draft.name
    target = policies / doc_id
    target_facts = policies / "_facts" / f"{doc_id}.yaml"
    if target.exists() or target_facts.exists():
        raise ExtractError(
            f"政策库中已有 {doc_id}：新政策请用 huiqi extract --id 另取编号；"
            f"若这是 {doc_id} 的新版本，请用 --version-of {doc_id} 发布为新版本"
        )
    shutil.copytree(draft, target)
    if facts.exists():
        shutil.copyfile(facts, target_facts)
    record = _record(target / "source.txt", reviewer, approver, draft, today)
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


# ------------------------------------------------------------------------------------------- new versions


@dataclass
class VersionPublished:
    """What ``publish_version`` did: where, the names of the two versions, their dates, and what changed."""

    folder: Path
    document: str
    old: str
    new: str
    old_end: dt.date | None
    new_start: dt.date
    changes: list[Change] = field(default_factory=list)
    #: draft cases dated before the new version started, dated to its first day (so they test the new version)
    redated: int = 0
    cases_run: int = 0
    dry_run: bool = False


def set_document_fields(text: str, fields: dict[str, Any]) -> str:
    """``policy.yaml``'s text with keys of its top-level ``document:`` mapping set (replaced or added), every
    other line (comments, order, quoting) kept. Values are written as YAML scalars."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"document:\s*(#.*)?$", line.rstrip("\n"))), None)
    if start is None:
        raise ExtractError("policy.yaml 的 document 不是块格式（document: 换行后逐行写键）：无法写入版本信息")
    end, indent = start + 1, ""
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        if not indent and lines[end].strip() and not lines[end].lstrip().startswith("#"):
            indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    indent = indent or "  "
    for key, value in fields.items():
        rendered = value.isoformat() if isinstance(value, dt.date) else json.dumps(str(value), ensure_ascii=False)
        new_line = f"{indent}{key}: {rendered}\n"
        at = next((i for i in range(start + 1, end) if re.match(rf"{re.escape(indent)}{key}:(\s|$)", lines[i])), None)
        if at is None:
            lines.insert(end, new_line)
            end += 1
            continue
        stop = at + 1  # a value written as a nested block under the key goes with it
        while stop < end and (not lines[stop].strip() or len(lines[stop]) - len(lines[stop].lstrip()) > len(indent)):
            stop += 1
        lines[at:stop] = [new_line]
        end -= stop - at - 1
    out = "".join(lines)
    document = (yaml.safe_load(out) or {}).get("document") or {}
    for key, value in fields.items():
        if str(document.get(key)) != (value.isoformat() if isinstance(value, dt.date) else str(value)):
            raise ExtractError(f"无法在 policy.yaml 的 document 中写入 {key}：请手工写明 {key}: {value}")
    return out


def _date(value: Any, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ExtractError(f"{what}应为日期 YYYY-MM-DD，得到 {value!r}") from None


def publish_version(
    draft: Path,
    policies: Path,
    document: str,
    *,
    reviewer: str,
    approver: str,
    version_name: str | None = None,
    effective_from: dt.date | None = None,
    today: dt.date | None = None,
    dry_run: bool = False,
) -> VersionPublished:
    """Publish a reviewed draft as a new version of ``document`` (docs/authoring.md "Versions").

    The draft passes the same checks as a new policy. Its start (``effective_from`` of the draft, or the one
    given) must be after the current version's; the current version keeps its dates and moves, with its text
    and record, into ``versions/<its name>/`` (named ``document.version``, else the year it started), with
    ``effective_to`` the day before the new one starts when it had none — an ``effective_to`` on or after that
    day is an overlap and refused. The draft becomes the folder's ``policy.yaml`` with ``id``, ``version``,
    ``amends`` and ``effective_from``; its cases go to ``cases/version-<start>.yaml`` (those dated before the
    start dated to it); its fact file to ``_facts/<document>.<start>.yaml``. Everything is first assembled
    in a copy of the policy base, which must load without error and where every case of the document — the
    earlier versions' and the new ones — must pass; only then is the policy base changed. ``dry_run`` stops
    there: every check is made and the changes are returned, the policy base is left as it was.
    """
    from huiqi.policy.base import PolicyBase, version_start

    draft, facts = _check_draft(draft, reviewer, approver)
    base = PolicyBase.load(policies, strict=False)
    if document not in base.documents:
        known = "、".join(sorted(base.documents)) or "（政策库为空）"
        raise ExtractError(
            f"政策库中没有编号为 {document} 的文件：--version-of 须为已发布文件的编号（现有：{known}）；"
            "全新的政策请去掉 --version-of"
        )
    mine = [e for e in base.errors if f"/{document}/" in (e.where or "") or document in e.message]
    if document in base.broken or mine:
        first = mine[0].message if mine else "见 huiqi validate"
        raise ExtractError(f"政策库中的 {document} 目前未通过检查（{first}）：先修正它再发布新版本")
    current = base.documents[document]
    meta = current.policy.document
    current_start = version_start(current)
    if current_start is None:
        raise ExtractError(
            f"{document} 的现行版本没有施行日期：先在 {current.folder / 'policy.yaml'} 的 document 写明 "
            "effective_from（或 issue_date），才能确定新旧版本各自施行的时间"
        )
    draft_text = (draft / "policy.yaml").read_text(encoding="utf-8")
    draft_document = (yaml.safe_load(draft_text) or {}).get("document") or {}
    new_start = effective_from or _date(draft_document.get("effective_from"), "草稿的 document.effective_from ")
    if new_start is None:
        raise ExtractError(
            "新版本须写明施行日期：在草稿 policy.yaml 的 document 写 effective_from: YYYY-MM-DD，"
            "或发布时给出 --effective-from YYYY-MM-DD"
        )
    old_name = meta.version or str(current_start.year)
    if new_start <= current_start:
        raise ExtractError(
            f"新版本的施行日期 {new_start} 应晚于 {document} 现行版本（{old_name}）的施行日期 {current_start}："
            "请改正施行日期（新版本不能早于或同日于旧版本施行）"
        )
    new_end = _date(draft_document.get("effective_to"), "草稿的 document.effective_to ")
    if new_end is not None and new_end < new_start:
        raise ExtractError(f"新版本的有效期至 {new_end} 早于它的施行日期 {new_start}：请改正草稿的 effective_to")
    old_end = meta.effective_to
    if old_end is not None and old_end >= new_start:
        raise ExtractError(
            f"日期重叠：{document} 现行版本（{old_name}）有效期至 {old_end}，新版本自 {new_start} 施行，两个版本不能同时施行。"
            f"新版本提前取代旧版本时，先把 {current.folder / 'policy.yaml'} 的 effective_to 改为 "
            f"{new_start - dt.timedelta(days=1)}；否则把新版本的施行日期定在 {old_end} 之后"
        )
    existing = {v.policy.document.version for v in base.versions_of(document)}
    new_name = version_name.strip() if version_name else f"{new_start.year}年修订"
    if not version_name and (new_name in existing or new_name == old_name):
        new_name = f"{new_start.isoformat()}修订"
    if not new_name or len(new_name) > 40 or _BAD_NAME.search(new_name) or new_name.startswith("."):
        raise ExtractError(f'版本名 {new_name!r} 不可用：最多 40 个字，不含空格和 / \\ : * ? " < > |（如 2026年修订）')
    if new_name in existing or new_name == old_name:
        raise ExtractError(f"{document} 已有名为 {new_name} 的版本：请用 --version-name 另取版本名")
    target_facts = f"{document}.{new_start.isoformat()}.yaml"
    if not proposes_facts(facts):
        facts = draft / "_no_facts.yaml"  # nothing proposed: no fact file is published
    if facts.exists() and (policies / "_facts" / target_facts).exists():
        raise ExtractError(f"政策库的事实目录已有 {target_facts}：请先确认它是否来自之前的发布")

    result = VersionPublished(policies / document, document, old_name, new_name,
                              old_end or new_start - dt.timedelta(days=1), new_start, dry_run=dry_run)  # fmt: skip
    record = _record(draft / "source.txt", reviewer, approver, draft, today)
    record.update({"version_of": document, "version": new_name, "amends": old_name,
                   "effective_from": new_start.isoformat()})  # fmt: skip

    def assemble(root: Path) -> None:
        folder = root / document
        old_dir = folder / "versions" / old_name
        if old_dir.exists():
            raise ExtractError(f"{old_dir} 已存在：旧版本无法归档，请检查 {document} 的 versions/ 目录")
        old_dir.mkdir(parents=True)
        for item in sorted(folder.iterdir()):
            if item.name not in ("cases", "versions"):
                shutil.move(str(item), str(old_dir / item.name))
        old_fields: dict[str, Any] = {}
        if meta.version is None:
            old_fields["version"] = old_name
        if old_end is None:
            old_fields["effective_to"] = new_start - dt.timedelta(days=1)
        if old_fields:
            path = old_dir / "policy.yaml"
            path.write_text(set_document_fields(path.read_text(encoding="utf-8"), old_fields), encoding="utf-8")
        for item in sorted(draft.iterdir()):
            if item.name in ("cases", "versions", "PUBLISHED.yaml"):
                continue
            (shutil.copytree if item.is_dir() else shutil.copyfile)(item, folder / item.name)
        new_fields = {"id": document, "version": new_name, "amends": old_name, "effective_from": new_start}
        (folder / "policy.yaml").write_text(set_document_fields(draft_text, new_fields), encoding="utf-8")
        cases: list[Any] = []
        result.redated = 0
        for path in sorted((draft / "cases").glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for case in data.get("cases") or []:
                day = _date(case.get("as_of"), "案例的 as_of ") if isinstance(case, dict) else None
                if day is not None and day < new_start:
                    case["as_of"] = new_start.isoformat()
                    result.redated += 1
                cases.append(case)
        if cases:
            (folder / "cases").mkdir(exist_ok=True)
            header = (f"# 版本 {new_name} 的案例（来自草稿 {draft.name}）；"
                      f"早于 {new_start} 的 as_of 已改为 {new_start}，使其检验新版本\n")  # fmt: skip
            (folder / "cases" / f"version-{new_start.isoformat()}.yaml").write_text(
                header + dump({"cases": cases}), encoding="utf-8"
            )
        if facts.exists():
            shutil.copyfile(facts, root / "_facts" / target_facts)
        (folder / "PUBLISHED.yaml").write_text(
            f"# huiqi publish：版本 {new_name} 的审核与批准记录\n" + dump(record), encoding="utf-8"
        )

    with tempfile.TemporaryDirectory(prefix="huiqi-publish-") as scratch:
        staged = Path(scratch) / "policies"
        shutil.copytree(policies, staged, symlinks=True)
        assemble(staged)
        result.changes, result.cases_run = _check_staged(staged, document, policies)
    record["changes"] = [f"[{c.kind}] {c.where}：{c.text}" for c in result.changes]
    if dry_run:
        return result

    folder = policies / document
    backup = policies / f".{document}.before-{new_name}"
    if backup.exists():
        shutil.rmtree(backup)
    shutil.copytree(folder, backup)
    try:
        assemble(policies)
        problems = PolicyBase.load(policies, strict=False).errors
        if problems:
            raise ExtractError(f"发布后政策库未通过检查：{problems[0].message}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(str(backup), str(folder))
        if facts.exists():
            (policies / "_facts" / target_facts).unlink(missing_ok=True)
        raise
    shutil.rmtree(backup)
    return result


def _check_staged(staged: Path, document: str, policies: Path) -> tuple[list[Change], int]:
    """The assembled copy loads without error and every case of ``document`` passes; what changed."""
    from huiqi.cases import run_all
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase
    from huiqi.policy.versions import diff_versions

    def short(text: str | None) -> str:
        return (text or "").replace(str(staged) + "/", "").replace(str(staged), str(policies))

    base = PolicyBase.load(staged, strict=False)
    if base.errors:
        first = base.errors[0]
        where = f"{short(first.where)}: " if first.where else ""
        raise ExtractError(f"作为 {document} 的新版本发布后政策库未通过检查：{where}{short(first.message)}")
    outcomes = run_all(Engine(base), document)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        first_failure = failed[0]
        raise ExtractError(
            f"作为 {document} 的新版本发布后有 {len(failed)} 个案例未通过（如 {short(first_failure.where)} "
            f"“{first_failure.name}”：{'；'.join(first_failure.failures)[:200]}）：评价日在新版本施行之后的旧案例"
            "现在检验新版本，请把它们的 as_of 改到新版本施行之前，或按新版本改写"
        )
    versions = base.versions_of(document)
    return diff_versions(versions[-2], versions[-1]), len(outcomes)
