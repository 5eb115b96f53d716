"""The application lifecycle as a state machine: named transitions, each allowed to exactly one role.

The machine of a call is built from its configuration: the review mode decides where a submission goes
(straight to 形式审查通过 when there is no review at all), and ``transition_roles`` may hand a
transition to another role (for instance 批准 to finance). Anything not listed is refused, with a
Chinese message that says what the state allows and who may do it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from huiqi.store.errors import IllegalTransition, InvalidInput, PermissionDenied
from huiqi.store.models import ROLE_LABELS, ROLES
from huiqi.workflow.actors import Actor


class State(StrEnum):
    """States of an application (DESIGN §7)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    CHECKED = "checked"
    UNDER_REVIEW = "under_review"
    PROPOSED = "proposed"
    PUBLICITY = "publicity"
    APPROVED = "approved"
    PAYING = "paying"
    PAID = "paid"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    CLAWED_BACK = "clawed_back"


STATE_LABELS: dict[State, str] = {
    State.DRAFT: "草稿",
    State.SUBMITTED: "已提交（待形式审查）",
    State.RETURNED: "退回补正",
    State.CHECKED: "形式审查通过",
    State.UNDER_REVIEW: "专家评审中",
    State.PROPOSED: "拟支持",
    State.PUBLICITY: "公示中",
    State.APPROVED: "已批准",
    State.PAYING: "拨付中",
    State.PAID: "已拨付",
    State.FOLLOW_UP: "绩效跟踪",
    State.CLOSED: "已结项",
    State.WITHDRAWN: "已撤回",
    State.REJECTED: "不予支持",
    State.CLAWED_BACK: "已追回",
}

FINAL_STATES = frozenset({State.CLOSED, State.WITHDRAWN, State.REJECTED, State.CLAWED_BACK})


@dataclass(frozen=True)
class Transition:
    """A named move from any of ``sources`` to one of ``targets``, allowed to ``role`` only."""

    name: str
    label: str
    sources: frozenset[State]
    targets: tuple[State, ...]
    role: str

    @property
    def target(self) -> State:
        return self.targets[0]


def _t(name: str, label: str, sources: Iterable[State], targets: Iterable[State], role: str) -> Transition:
    return Transition(name, label, frozenset(sources), tuple(targets), role)


S = State
#: The default lifecycle. Where a transition has two targets the operation picks one (documented there).
DEFAULT_TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", "提交申报（信用承诺）", [S.DRAFT], [S.SUBMITTED, S.CHECKED], "applicant"),
    _t("resubmit", "补正后重新提交", [S.RETURNED], [S.SUBMITTED], "applicant"),
    _t(
        "withdraw",
        "撤回申请",
        [S.DRAFT, S.SUBMITTED, S.RETURNED, S.CHECKED, S.UNDER_REVIEW],
        [S.WITHDRAWN],
        "applicant",
    ),
    _t("return_for_correction", "退回补正（一次性告知）", [S.SUBMITTED], [S.RETURNED], "official"),
    _t("pass_check", "形式审查通过", [S.SUBMITTED], [S.CHECKED], "official"),
    _t("start_review", "抽取专家、开始评审", [S.CHECKED], [S.UNDER_REVIEW], "official"),
    _t("propose", "列入拟支持名单", [S.CHECKED, S.UNDER_REVIEW], [S.PROPOSED], "official"),
    _t("reject", "不予支持", [S.SUBMITTED, S.CHECKED, S.UNDER_REVIEW, S.PROPOSED], [S.REJECTED], "official"),
    _t("start_publicity", "开始公示", [S.PROPOSED], [S.PUBLICITY], "official"),
    _t("uphold_objection", "异议成立，不予支持", [S.PUBLICITY], [S.REJECTED], "official"),
    _t("approve", "批准（预留预算）", [S.PUBLICITY, S.PROPOSED], [S.APPROVED], "official"),
    _t("pay", "拨付一期资金", [S.APPROVED, S.PAYING], [S.PAYING, S.PAID, S.FOLLOW_UP], "finance"),
    _t("close", "结项", [S.PAID, S.FOLLOW_UP], [S.CLOSED], "official"),
    _t(
        "claw_back",
        "追回资金并列入失信名单",
        [S.APPROVED, S.PAYING, S.PAID, S.FOLLOW_UP, S.CLOSED],
        [S.CLAWED_BACK],
        "official",
    ),
)


class StateMachine:
    """The transitions of one call, by name."""

    def __init__(self, transitions: Iterable[Transition]) -> None:
        self.transitions = {t.name: t for t in transitions}

    def check(self, name: str, state: str, actor: Actor) -> Transition:
        """The transition ``name`` if ``actor`` may take it from ``state``; else a refusal saying why."""
        transition = self.transitions.get(name)
        if transition is None:
            known = "、".join(f"{t.name}（{t.label}）" for t in self.transitions.values())
            raise IllegalTransition(f"本批次的流程没有“{name}”这一步；可用：{known}", where="transition")
        current = State(state)
        if current not in transition.sources:
            allowed = self.allowed_from(current)
            hint = "、".join(f"{t.label}" for t in allowed) or "无（已是终态）"
            sources = "、".join(STATE_LABELS[s] for s in sorted(transition.sources))
            raise IllegalTransition(
                f"申请当前为“{STATE_LABELS[current]}”，不能“{transition.label}”：只有“{sources}”的申请可以；"
                f"当前可进行：{hint}",
                where="state",
            )
        if actor.role != transition.role:
            raise PermissionDenied(
                f"“{transition.label}”只能由{ROLE_LABELS[transition.role]}执行，当前用户是{actor.role_label}",
                where="role",
            )
        return transition

    def allowed_from(self, state: State) -> list[Transition]:
        """The transitions that leave ``state``, whoever may take them."""
        return [t for t in self.transitions.values() if state in t.sources]

    def table(self) -> list[dict[str, str]]:
        """The machine as rows (for docs and the API): transition, from, to, role."""
        return [
            {
                "transition": t.name,
                "label": t.label,
                "from": "、".join(STATE_LABELS[s] for s in sorted(t.sources)),
                "to": "、".join(STATE_LABELS[s] for s in t.targets),
                "role": ROLE_LABELS[t.role],
            }
            for t in self.transitions.values()
        ]


def machine_for(*, review_mode: str, publicity_days: int, roles: Mapping[str, str] | None = None) -> StateMachine:
    """The machine of a call: the default lifecycle shaped by its review mode, 公示 and role overrides."""
    transitions = {t.name: t for t in DEFAULT_TRANSITIONS}
    if review_mode == "none":  # no check at all: a submission is accepted as it stands
        transitions["submit"] = replace(transitions["submit"], targets=(S.CHECKED,))
        for name in ("return_for_correction", "pass_check", "start_review"):
            transitions.pop(name)
    else:
        transitions["submit"] = replace(transitions["submit"], targets=(S.SUBMITTED,))
    if review_mode in ("none", "formal"):
        transitions.pop("start_review", None)
        transitions["propose"] = replace(transitions["propose"], sources=frozenset({S.CHECKED}))
    else:  # expert review is compulsory: nothing is proposed unreviewed
        transitions["propose"] = replace(transitions["propose"], sources=frozenset({S.UNDER_REVIEW}))
    if publicity_days > 0:  # 公示 cannot be skipped
        transitions["approve"] = replace(transitions["approve"], sources=frozenset({S.PUBLICITY}))
    else:
        transitions.pop("start_publicity")
        transitions.pop("uphold_objection")
        transitions["approve"] = replace(transitions["approve"], sources=frozenset({S.PROPOSED}))
    for name, role in (roles or {}).items():
        if name not in transitions:
            raise InvalidInput(f"流程中没有“{name}”这一步，不能指定其角色", where=f"transition_roles.{name}")
        if role not in ROLES:
            raise InvalidInput(f"角色 {role!r} 无效：可用 {'、'.join(ROLES)}", where=f"transition_roles.{name}")
        transitions[name] = replace(transitions[name], role=role)
    return StateMachine(transitions.values())
