"""The policy base: documents, provisions and rules (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from huiqi import beijing
from huiqi.api.deps import CurrentActor, PolicyDep
from huiqi.api.schemas.common import ERRORS
from huiqi.policy.status import status_fields
from huiqi.store.errors import NotFound

router = APIRouter(prefix="/policies", tags=["policies"], responses=ERRORS)


@router.get("")
def list_policies(_actor: CurrentActor, policy: PolicyDep) -> list[dict[str, Any]]:
    """政策库中的全部文件（与 `huiqi policies list --format json` 相同），附版本哈希；current_status 为今天的
    状态（征求意见稿 / 现行有效 / 已失效 / 已废止 / 未生效，按有效期计算），status 为文件载明的状态。"""
    today = beijing.today()
    return [
        {**d.policy.document.model_dump(mode="json"), **status_fields(d.policy.document, today),
         "version": policy.version(doc_id)}
        for doc_id, d in policy.base.documents.items()
    ]  # fmt: skip


@router.get("/{document_id}")
def read_policy(document_id: str, _actor: CurrentActor, policy: PolicyDep) -> dict[str, Any]:
    """一个文件的全部条款与规则（与 `huiqi policies show ID --format json` 相同）。"""
    document = policy.base.documents.get(document_id)
    if document is None:
        raise NotFound(
            f"没有编号为 {document_id!r} 的文件；现有：{'、'.join(policy.base.documents)}", where="document_id"
        )
    return {**document.policy.model_dump(mode="json"), "version": policy.version(document_id)}
