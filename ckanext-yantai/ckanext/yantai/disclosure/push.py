"""双公示 records pushed to 信用烟台, the city's credit site (the protocol: ``credit``).

Every public record whose content the site does not have yet gets a publish; a record that left
the public after the site got it gets a withdrawal. Pushes are filed with the records
(``plan_pushes``, in the same transaction as their rows) and sent in the background
(``send_due``, by the worker and the ``credit-push`` service), retried after failures. A push's
idempotency key carries the record's generation (its withdrawals the site has taken), so a record
published again after a withdrawal is a new message, not a duplicate of the first.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.yantai import config
from ckanext.yantai.disclosure import credit, store
from ckanext.yantai.model import CreditPush, DisclosureRecord

log = logging.getLogger(__name__)


def credit_push_of(row: DisclosureRecord, kind: str, reason: str | None = None,
                   generation: int = 0) -> credit.Push:
    organization = model.Group.get(row.organization_id)
    record = {k: v for k, v in row.fields.items() if v} if kind == "publish" else {}
    return credit.Push(kind=kind, record_type=row.record_type, record_key=row.record_key,
                       record=record, reason=reason,
                       source=organization.name if organization else None,
                       generation=generation)


def plan_pushes(rows: Iterable[DisclosureRecord], now: dt.datetime) -> int:
    """File the pushes that bring the credit site to the records' state; returns how many.

    A public record whose content the site does not have yet gets a publish; a record that left
    the public after the site got it gets a withdrawal. A publish not yet delivered is superseded
    by the next one, or dropped when the record leaves the public before it was ever delivered.
    """
    rows = list(rows)
    history: dict[str, list[CreditPush]] = {row.id: [] for row in rows}
    ids = list(history)
    for start in range(0, len(ids), 1000):
        for push in (model.Session.query(CreditPush)
                     .filter(CreditPush.record_id.in_(ids[start:start + 1000]))
                     .order_by(CreditPush.created)):
            history[push.record_id].append(push)
    planned = 0
    for row in rows:
        pushes = history[row.id]
        undelivered = [p for p in pushes if p.status in ("pending", "failed")]
        delivered = [p for p in pushes if p.status == "sent"]
        if row.public:
            push = credit_push_of(row, "publish", generation=store.generation(delivered))
        elif delivered and delivered[-1].kind == "publish":
            push = credit_push_of(row, "withdraw", store.withdraw_reason(row),
                                  generation=store.generation(delivered))
        else:
            push = None
        key = credit.idempotency_key(push) if push else None
        for old in undelivered:
            if old.idempotency_key != key:
                old.status = "superseded"
        if push is not None and not any(p.idempotency_key == key for p in pushes):
            filed = CreditPush(id=str(uuid.uuid4()), record_id=row.id, kind=push.kind,
                               reason=push.reason, idempotency_key=key, status="pending",
                               attempts=0, created=now)
            model.Session.add(filed)
            pushes.append(filed)
            planned += 1
        row.push_status = push_status(pushes)
    return planned


def push_status(pushes: Sequence[CreditPush]) -> str:
    """A record's push status: that of its latest push still in force, else none."""
    live = [p for p in pushes if p.status != "superseded"]
    return live[-1].status if live else "none"


def client() -> credit.CreditClient | None:
    endpoint = config.credit_endpoint()
    if endpoint is None:
        return None
    return credit.CreditClient(endpoint, token=config.credit_token(),
                               timeout=config.credit_timeout(), attempts=config.credit_attempts())


def send_due(now: dt.datetime | None = None, sender: credit.CreditClient | None = None,
             limit: int | None = None,
             progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Send the pushes that are due; returns counts by outcome (sent, failed, rejected).

    Without a configured endpoint nothing is sent: the pushes wait.
    """
    now = now or store.utcnow()
    sender = sender or client()
    counts = {"sent": 0, "failed": 0, "rejected": 0}
    if sender is None:
        return counts
    query = (model.Session.query(CreditPush)
             .filter(CreditPush.status.in_(("pending", "failed")))
             .filter((CreditPush.next_attempt_at.is_(None)) | (CreditPush.next_attempt_at <= now))
             .order_by(CreditPush.created))
    if limit:
        query = query.limit(limit)
    for push in query.all():
        row = model.Session.get(DisclosureRecord, push.record_id)
        assert row is not None  # a push belongs to its record (a foreign key)
        delivered = (model.Session.query(CreditPush)
                     .filter(CreditPush.record_id == row.id, CreditPush.status == "sent"))
        message = credit_push_of(row, push.kind, push.reason, store.generation(delivered))
        if credit.idempotency_key(message) != push.idempotency_key:
            push.status = "superseded"  # the record changed since; its own push is filed
        else:
            push.attempts += 1
            try:
                receipt = sender.send(message)
            except credit.PushError as error:
                push.error = str(error)
                if error.retryable:
                    push.status = "failed"
                    push.next_attempt_at = now + dt.timedelta(
                        seconds=credit.retry_delay(push.attempts))
                    counts["failed"] += 1
                else:
                    push.status = "rejected"
                    counts["rejected"] += 1
                log.warning("push %s of record %s: %s", push.kind, row.record_key, error)
            else:
                push.status = "sent"
                push.sent_at = now
                push.receipt_id = receipt.receipt_id
                push.received_at = receipt.received_at
                push.error = None
                counts["sent"] += 1
        row.push_status = push_status(
            model.Session.query(CreditPush).filter(CreditPush.record_id == row.id)
            .order_by(CreditPush.created).all())
        model.Session.commit()
        if progress:
            progress(1)
    return counts


CREDIT_PUSH_JOB = "ckanext.yantai.jobs.yantai_credit_push"


def enqueue_push() -> None:
    """Send the due pushes in the background (the worker), not in the department's request."""
    if config.credit_endpoint() is None:
        return
    try:
        # By name: the jobs module runs this one's send_due, so it imports this module.
        tk.enqueue_job(CREDIT_PUSH_JOB, title="双公示 push to 信用烟台")  # pyright: ignore[reportArgumentType]  # RQ takes a function's dotted name too
    except Exception:  # Redis down: the daily run sends them
        log.exception("could not enqueue the credit push; the daily run will send it")
