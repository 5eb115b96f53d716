"""Uploaded materials: what is accepted, checked before anything is stored.

A file is refused when it is empty or larger than the limit, when its name is unsafe (a path, control
characters), when its declared type is not one of PDF, PNG, JPEG or OFD, when its extension does not
match the type, or when its first bytes are not those of the type it claims (a renamed executable is not a
PDF). The stored row keeps the SHA-256 so a later copy can be compared.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete
from sqlalchemy.orm import Session

from huiqi.store.errors import Conflict, InvalidInput
from huiqi.store.models import Application, Call, Material
from huiqi.workflow import audit
from huiqi.workflow.actors import Actor
from huiqi.workflow.lifecycle import require_owner
from huiqi.workflow.states import State

MAX_BYTES = 10 * 1024 * 1024

#: content type → (extensions, magic prefixes)
ACCEPTED: dict[str, tuple[tuple[str, ...], tuple[bytes, ...]]] = {
    "application/pdf": ((".pdf",), (b"%PDF-",)),
    "image/png": ((".png",), (b"\x89PNG\r\n\x1a\n",)),
    "image/jpeg": ((".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    "application/ofd": ((".ofd",), (b"PK\x03\x04",)),  # 版式文档 OFD is a zip container
}


def check_upload(*, filename: str, content_type: str, content: bytes, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a malformed upload, saying what is wrong and what is accepted."""
    accepted = "PDF、PNG、JPEG、OFD"
    if not filename or len(filename) > 200:
        raise InvalidInput("文件名不能为空，且不超过200字", where="file.filename")
    if any(c in filename for c in "/\\\0") or filename.startswith(".") or any(ord(c) < 32 for c in filename):
        raise InvalidInput("文件名不能含路径、控制字符或以“.”开头", where="file.filename")
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ACCEPTED:
        raise InvalidInput(
            f"不接受的文件类型 {content_type or '（未声明）'}：只接受 {accepted}", where="file.content_type"
        )
    extensions, magics = ACCEPTED[kind]
    if not filename.lower().endswith(extensions):
        raise InvalidInput(f"文件扩展名与类型 {kind} 不符：应为 {'、'.join(extensions)}", where="file.filename")
    if not content:
        raise InvalidInput("文件为空", where="file")
    if len(content) > max_bytes:
        raise InvalidInput(f"文件超过 {max_bytes // (1024 * 1024)}MB 上限，请压缩后上传", where="file")
    if not content.startswith(magics):
        raise InvalidInput(f"文件内容不是有效的 {kind}（文件头不符），请上传原始文件", where="file")


def add_material(
    session: Session,
    *,
    application: Application,
    call: Call,
    name: str,
    filename: str,
    content_type: str,
    content: bytes,
    actor: Actor,
) -> Material:
    """Attach (or replace) one required material while the application is a draft or returned for 补正."""
    require_owner(actor, application)
    if application.state not in (State.DRAFT.value, State.RETURNED.value):
        raise Conflict("只有草稿或退回补正的申请可以上传材料", where="state")
    if name not in call.materials:
        listed = "、".join(call.materials) or "（本批次不要求材料）"
        raise InvalidInput(f"本批次不要求材料“{name}”；要求的材料：{listed}", where="name")
    check_upload(filename=filename, content_type=content_type, content=content)
    session.execute(delete(Material).where(Material.application_id == application.id, Material.name == name))
    material = Material(
        application_id=application.id,
        name=name,
        filename=filename,
        content_type=content_type.split(";")[0].strip().lower(),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=actor.username,
    )
    session.add(material)
    session.flush()
    audit.record(session, actor=actor, action="material.upload", object_type="material", object_id=material.id,
                 before=None, after=audit.snapshot(material))  # fmt: skip
    return material
