"""Review workflows declared as data: states, transitions, who may take each, whether a
reason is required, which message each step sends.

A module declares its workflow once, e.g. the resume-work application (SPEC §6)::

    RESUME = Workflow("resume_application", initial="待审核", states=("待审核", "已通过", "未通过"),
        transitions=(
            Transition("approve", ("待审核",), "已通过", _("通过"), roles={R.TOWN, R.BUREAU}),
            Transition("reject", ("待审核",), "未通过", _("驳回"), roles={R.TOWN, R.BUREAU},
                       reason_required=True, message="resume.rejected"),
        ))

:meth:`Workflow.decide` is the pure rule: from a state, may principals holding these
roles take this action, with this reason — the transition, or a :class:`RuleError`
in Chinese. ``app.services.review`` applies it to a row (scope, audit, message).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from app.domain.errors import RuleError
from app.domain.i18n import _

REASON_MAX = 500


@dataclass(frozen=True)
class Transition:
    """``action`` moves a row from any of ``sources`` to ``target``. Principals holding
    one of ``roles`` may take it (an empty set: any principal the caller lets through,
    e.g. the owner submitting their own record). ``message``: the key of the message
    template the step sends (None: none)."""

    action: str
    sources: tuple[str, ...]
    target: str
    label: Any
    roles: frozenset[str] = field(default_factory=frozenset)
    reason_required: bool = False
    message: Optional[str] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.roles))
        object.__setattr__(self, "sources", tuple(self.sources))


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]

    def __post_init__(self) -> None:
        known = set(self.states)
        if self.initial not in known:
            raise ValueError(f"workflow {self.name}: initial state {self.initial!r} is not a state")
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            if t.target not in known or not set(t.sources) <= known:
                raise ValueError(f"workflow {self.name}: transition {t.action!r} names an unknown state")
            for source in t.sources:
                if (source, t.action) in seen:
                    raise ValueError(f"workflow {self.name}: two transitions {t.action!r} from {source!r}")
                seen.add((source, t.action))

    def available(self, state: str, roles: Iterable[str]) -> list[Transition]:
        """The transitions principals with ``roles`` may take from ``state`` (the buttons)."""
        held = set(roles)
        return [t for t in self.transitions if state in t.sources and (not t.roles or t.roles & held)]

    def decide(self, state: str, action: str, roles: Iterable[str], reason: Any = None) -> Transition:
        """The transition ``action`` from ``state`` for principals holding ``roles``.

        :raise RuleError: unknown action, not allowed from this state (already decided),
            not allowed for these roles, a required reason missing or too long.
        """
        by_action = [t for t in self.transitions if t.action == action]
        if not by_action:
            raise RuleError("action", _("未知的审核操作：%(action)s", action=action))
        transition = next((t for t in by_action if state in t.sources), None)
        if transition is None:
            raise RuleError("status", _("当前状态为“%(state)s”，不能执行此操作", state=state))
        if transition.roles and not (transition.roles & set(roles)):
            raise RuleError("action", _("没有权限执行此审核操作"))
        text = "" if reason is None else str(reason).strip()
        if transition.reason_required and not text:
            raise RuleError("reason", _("请填写“%(label)s”的理由", label=transition.label))
        if len(text) > REASON_MAX:
            raise RuleError("reason", _("理由不能超过%(n)d个字", n=REASON_MAX))
        return transition
