"""Taking a step of a declared review workflow on a row (app/domain/workflow.py).

A module binds its workflow to its model once (:class:`Review`): which attribute holds
the state, who the row's owner is (the applicant, to be told of the outcome), which
message each step sends and with which words. :func:`take` then does, as one
operation: find the row in the caller's scope (else 404), let the workflow decide
(state, roles, reason), move the state with one conditional UPDATE (two reviewers
deciding at once: exactly one wins, the other gets 409), record the step and audit it,
and send the step's message to its addressees — the owner, or the users who may see
the row (the inverse scope, ``app.security.scope.audience``), once per step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional

from sqlalchemy import update

from app.platform import audit
from app.domain.errors import Conflict, RuleError, ServiceError
from app.domain.i18n import _
from app.domain.workflow import Transition, Workflow
from app.notify.messages import MessageTemplate, Recipient, notify, to_audience
from app.platform.operations import operation
from app.security import scope as S
from models.review import ReviewStep

OWNER, REVIEWERS = "owner", "reviewers"
ALREADY_DECIDED = _("该记录已被他人处理，请刷新后查看")


@dataclass(frozen=True)
class Review:
    """A workflow bound to a model.

    ``owner(row)``: the recipients told of a decision about their row. ``messages``:
    message key → (template, addressees) where addressees are :data:`OWNER` and/or
    :data:`REVIEWERS`. ``context(row)``: the template's variables (the step adds
    ``reason``, ``action`` and ``state``)."""

    workflow: Workflow
    model: type
    state_attr: str = "status"
    owner: Optional[Callable[[Any], Iterable[Recipient]]] = None
    messages: Mapping[str, tuple[MessageTemplate, tuple[str, ...]]] = field(default_factory=dict)
    context: Callable[[Any], Mapping[str, Any]] = field(default=lambda row: {})

    @property
    def entity(self) -> str:
        return self.model.__name__


def _roles(user: Any) -> set[str]:
    return {r.name for r in (getattr(user, "roles", None) or [])}


def _recipients(session, review: Review, row: Any, addressees: Iterable[str]) -> list[Recipient]:
    out: list[Recipient] = []
    for who in addressees:
        if who == OWNER and review.owner is not None:
            out.extend(review.owner(row))
        elif who == REVIEWERS:
            out.extend(to_audience(S.audience(session, review.model, row)))
    return out


def available(review: Review, row: Any, user: Any) -> list[Transition]:
    """The steps ``user`` may take on ``row`` now (the buttons a page shows)."""
    return review.workflow.available(getattr(row, review.state_attr), _roles(user))


@operation
def take(session, scope: S.Scope, user: Any, review: Review, row_id: Any, action: str,
         reason: Any = None) -> tuple[Any, Transition]:
    """Take ``action`` on the row ``row_id`` of ``review.model`` as ``user``.

    :raise OutOfScope: no such row in the caller's scope (404).
    :raise ServiceError: not allowed (state, roles) or a required reason missing (400).
    :raise Conflict: someone else decided first (409).
    """
    row = S.get_or_404(session, review.model, row_id, scope)
    state = getattr(row, review.state_attr)
    try:
        transition = review.workflow.decide(state, action, _roles(user), reason)
    except RuleError as err:
        raise ServiceError(err.message, [err]) from None
    column = getattr(review.model, review.state_attr)
    moved = session.execute(
        update(review.model).where(review.model.id == row.id, column == state)
        .values({review.state_attr: transition.target}).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(ALREADY_DECIDED)
    session.refresh(row)
    text = (str(reason).strip() or None) if reason is not None else None
    step = ReviewStep(workflow=review.workflow.name, entity=review.entity, entity_id=row.id, action=action,
                      from_state=state, to_state=transition.target, user_id=getattr(user, "id", None),
                      username=getattr(user, "username", None), reason=text)
    session.add(step)
    session.flush()
    audit.record("review", review.entity, row.id, before={review.state_attr: state},
                 after={review.state_attr: transition.target, "action": action, "reason": text}, user=user)
    if transition.message and transition.message in review.messages:
        template, addressees = review.messages[transition.message]
        context = {**review.context(row), "reason": text or "", "action": str(transition.label),
                   "state": transition.target}
        notify(template, _recipients(session, review, row, addressees), context,
               key=f"review:{review.entity}:{row.id}:{step.id}")
    return row, transition
