"""Tables of the portal (created by migration/yantai)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.plugins.toolkit as tk
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    UnicodeText,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped


def column(*args: Any, **kwargs: Any) -> Any:
    """A ``Column``, typed for checkers by the ``Mapped[...]`` annotation of its attribute:
    SQLAlchemy 1.4's declarative classes have typed attributes only through a mypy plugin."""
    return Column(*args, **kwargs)


class ResourceCheck(tk.BaseModel):  # type: ignore[misc, valid-type]
    """The last reachability check of a resource (one row per resource)."""

    __tablename__ = "yantai_resource_check"

    resource_id: Mapped[str] = column(UnicodeText, ForeignKey("resource.id", ondelete="CASCADE"),
                                      primary_key=True)
    checked_at: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow)
    ok: Mapped[bool] = column(Boolean, nullable=False)
    status_code: Mapped[int | None] = column(Integer)
    error: Mapped[str | None] = column(UnicodeText)


class AccessRequest(tk.BaseModel):  # type: ignore[misc, valid-type]
    """An application for a dataset's data: 有条件开放 (``open``) or a government share request
    under 有条件共享 (``share``). Expiry is derived: approved and ``expires`` before today."""

    __tablename__ = "yantai_access_request"

    id: Mapped[str] = column(UnicodeText, primary_key=True)
    package_id: Mapped[str] = column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                                     nullable=False, index=True)
    organization_id: Mapped[str] = column(UnicodeText, nullable=False, index=True)
    user_id: Mapped[str] = column(UnicodeText, ForeignKey("user.id", ondelete="CASCADE"),
                                  nullable=False, index=True)
    kind: Mapped[str] = column(UnicodeText, nullable=False)
    status: Mapped[str] = column(UnicodeText, nullable=False, default="pending")
    purpose: Mapped[str] = column(UnicodeText, nullable=False)
    intended_use: Mapped[str] = column(UnicodeText, nullable=False)
    applicant_organization: Mapped[str] = column(UnicodeText, nullable=False)
    period_start: Mapped[dt.date] = column(Date, nullable=False)
    period_end: Mapped[dt.date] = column(Date, nullable=False)
    commitment_accepted: Mapped[bool] = column(Boolean, nullable=False)
    created: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow)
    review_deadline: Mapped[dt.date | None] = column(Date)
    decided_by: Mapped[str | None] = column(UnicodeText)
    decided_at: Mapped[dt.datetime | None] = column(DateTime)
    expires: Mapped[dt.date | None] = column(Date)
    reason: Mapped[str | None] = column(UnicodeText)
    revoked_by: Mapped[str | None] = column(UnicodeText)
    revoked_at: Mapped[dt.datetime | None] = column(DateTime)


class DataRequest(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A request for data that is not published (数据需求, ``request``) or a report of an error
    in a dataset (纠错, ``correction``), and the department's public answer."""

    __tablename__ = "yantai_data_request"

    id: Mapped[str] = column(UnicodeText, primary_key=True)
    kind: Mapped[str] = column(UnicodeText, nullable=False)
    title: Mapped[str] = column(UnicodeText, nullable=False)
    description: Mapped[str] = column(UnicodeText, nullable=False)
    purpose: Mapped[str | None] = column(UnicodeText)
    organization_id: Mapped[str] = column(UnicodeText, nullable=False, index=True)
    package_id: Mapped[str | None] = column(UnicodeText, ForeignKey("package.id",
                                                                    ondelete="CASCADE"))
    resource_id: Mapped[str | None] = column(UnicodeText)
    user_id: Mapped[str] = column(UnicodeText, ForeignKey("user.id", ondelete="CASCADE"),
                                  nullable=False, index=True)
    created: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow,
                                          index=True)
    deadline: Mapped[dt.date | None] = column(Date)
    status: Mapped[str] = column(UnicodeText, nullable=False, default="pending")
    outcome: Mapped[str | None] = column(UnicodeText)
    answer: Mapped[str | None] = column(UnicodeText)
    answer_package_id: Mapped[str | None] = column(UnicodeText)
    answered_by: Mapped[str | None] = column(UnicodeText)
    answered_at: Mapped[dt.datetime | None] = column(DateTime)


class DataRequestFollower(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A user following a data request (its answer shows on their dashboard)."""

    __tablename__ = "yantai_data_request_follower"

    request_id: Mapped[str] = column(UnicodeText, ForeignKey("yantai_data_request.id",
                                                             ondelete="CASCADE"),
                                     primary_key=True)
    user_id: Mapped[str] = column(UnicodeText, ForeignKey("user.id", ondelete="CASCADE"),
                                  primary_key=True, index=True)
    created: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow)


class Application(tk.BaseModel):  # type: ignore[misc, valid-type]
    """An application built on the portal's data (数据应用): an app, a website, an analysis or a
    service, public once a reviewer approves it. Who submitted it is never shown publicly."""

    __tablename__ = "yantai_application"

    id: Mapped[str] = column(UnicodeText, primary_key=True)
    title: Mapped[str] = column(UnicodeText, nullable=False)
    kind: Mapped[str] = column(UnicodeText, nullable=False)
    description: Mapped[str] = column(UnicodeText, nullable=False)
    url: Mapped[str] = column(UnicodeText, nullable=False)
    developer: Mapped[str] = column(UnicodeText, nullable=False)
    submitted_by: Mapped[str] = column(UnicodeText, ForeignKey("user.id", ondelete="CASCADE"),
                                       nullable=False, index=True)
    created: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow,
                                          index=True)
    status: Mapped[str] = column(UnicodeText, nullable=False, default="pending", index=True)
    reviewed_by: Mapped[str | None] = column(UnicodeText)
    reviewed_at: Mapped[dt.datetime | None] = column(DateTime)
    review_note: Mapped[str | None] = column(UnicodeText)


class ApplicationDataset(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A dataset an application uses."""

    __tablename__ = "yantai_application_dataset"

    application_id: Mapped[str] = column(UnicodeText, ForeignKey("yantai_application.id",
                                                                 ondelete="CASCADE"),
                                         primary_key=True)
    package_id: Mapped[str] = column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                                     primary_key=True, index=True)


class TierChange(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A proposal to make a dataset more open, waiting for a second person's approval."""

    __tablename__ = "yantai_tier_change"

    id: Mapped[str] = column(UnicodeText, primary_key=True)
    package_id: Mapped[str] = column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                                     nullable=False, index=True)
    organization_id: Mapped[str] = column(UnicodeText, nullable=False, index=True)
    proposed_by: Mapped[str] = column(UnicodeText, nullable=False)  # the name, for display
    # Who proposed it, by id: a name can change (null only for a proposal whose proposer was
    # gone when the id was added).
    proposed_by_id: Mapped[str | None] = column(UnicodeText)
    proposed_at: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow)
    current: Mapped[dict[str, Any]] = column(JSONB, nullable=False)
    proposed: Mapped[dict[str, Any]] = column(JSONB, nullable=False)
    status: Mapped[str] = column(UnicodeText, nullable=False, default="pending")
    decided_by: Mapped[str | None] = column(UnicodeText)
    decided_at: Mapped[dt.datetime | None] = column(DateTime)
    reason: Mapped[str | None] = column(UnicodeText)


class PublishedTier(tk.BaseModel):  # type: ignore[misc, valid-type]
    """The tier a dataset was last published with (or approved to): what a later update is
    compared with to decide whether it widens access. A draft's own fields may differ (an
    editor works on it freely); a dataset never published has no row."""

    __tablename__ = "yantai_published_tier"

    package_id: Mapped[str] = column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                                     primary_key=True)
    open_type: Mapped[str] = column(UnicodeText, nullable=False)
    share_type: Mapped[str] = column(UnicodeText, nullable=False)
    published_at: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow)


class AuditEntry(tk.BaseModel):  # type: ignore[misc, valid-type]
    """Who did what to which dataset, and when: decisions, downloads of restricted data, refused
    classified content (never the content itself)."""

    __tablename__ = "yantai_audit_log"

    id: Mapped[int] = column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = column(DateTime, nullable=False, default=dt.datetime.utcnow,
                                     index=True)
    actor: Mapped[str | None] = column(UnicodeText)
    event: Mapped[str] = column(UnicodeText, nullable=False)
    package_id: Mapped[str | None] = column(UnicodeText, index=True)
    resource_id: Mapped[str | None] = column(UnicodeText)
    organization_id: Mapped[str | None] = column(UnicodeText, index=True)
    detail: Mapped[dict[str, Any]] = column(JSONB, nullable=False, default=dict)


class DisclosureRecord(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A 双公示 record as the department sent it, with what the rules say about it.

    The full values stay here (the credit push needs them); the DataStore table of the resource
    holds the public, masked form of the records that may be public (``public``).
    ``first_public_at`` is the portal's own clock: when the record first went online here.
    """

    __tablename__ = "yantai_disclosure_record"

    id: Mapped[str] = column(UnicodeText, primary_key=True)
    resource_id: Mapped[str] = column(UnicodeText, ForeignKey("resource.id", ondelete="CASCADE"),
                                      nullable=False, index=True)
    package_id: Mapped[str] = column(UnicodeText, nullable=False, index=True)
    organization_id: Mapped[str] = column(UnicodeText, nullable=False, index=True)
    record_type: Mapped[str] = column(UnicodeText, nullable=False)
    record_key: Mapped[str] = column(UnicodeText, nullable=False)
    # json, not jsonb: read back verbatim by rechecks
    fields: Mapped[dict[str, Any]] = column(JSON, nullable=False)
    extra: Mapped[dict[str, Any]] = column(JSONB, nullable=False, default=dict)
    received_at: Mapped[dt.datetime] = column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[dt.datetime] = column(DateTime(timezone=True), nullable=False)
    first_public_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True))
    public: Mapped[bool] = column(Boolean, nullable=False, default=False)
    withdrawn_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True))
    checked_at: Mapped[dt.datetime] = column(DateTime(timezone=True), nullable=False)
    valid: Mapped[bool] = column(Boolean, nullable=False)
    errors: Mapped[list[Any]] = column(JSONB, nullable=False, default=list)
    warnings: Mapped[list[Any]] = column(JSONB, nullable=False, default=list)
    decision_date: Mapped[dt.date | None] = column(Date, index=True)
    deadline: Mapped[dt.date | None] = column(Date)
    timeliness: Mapped[str | None] = column(UnicodeText)
    working_days_late: Mapped[int] = column(Integer, nullable=False, default=0)
    publish: Mapped[str] = column(UnicodeText, nullable=False)
    publicity_end: Mapped[dt.date | None] = column(Date)
    missing_year: Mapped[int | None] = column(Integer)
    push_status: Mapped[str] = column(UnicodeText, nullable=False, default="none")
    # of the result columns (disclosure.store.outcome)
    result_digest: Mapped[int | None] = column(BigInteger)
    # who it is about, for the credit lookup (disclosure.parties.keys)
    party_code: Mapped[str | None] = column(UnicodeText)
    party_name: Mapped[str | None] = column(UnicodeText)
    party_search: Mapped[str | None] = column(UnicodeText)
    document_number: Mapped[str | None] = column(UnicodeText)


class CreditParty(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A market entity with a public 双公示 record, as the credit lookup finds it: kept by the
    database from the records (migration ``credit_parties``), never written here."""

    __tablename__ = "yantai_credit_party"

    code: Mapped[str] = column(UnicodeText, primary_key=True)
    name: Mapped[str] = column(UnicodeText, nullable=False)
    search: Mapped[str] = column(UnicodeText, nullable=False)
    search_vector: Mapped[Any] = column(TSVECTOR, nullable=False)
    updated_at: Mapped[dt.datetime] = column(DateTime(timezone=True), nullable=False)


class CreditPush(tk.BaseModel):  # type: ignore[misc, valid-type]
    """One message to 信用烟台 (publish or withdraw) and its receipt; retried until received."""

    __tablename__ = "yantai_credit_push"
    __table_args__ = (UniqueConstraint("record_id", "idempotency_key",
                                       name="yantai_credit_push_record_key"),)

    id: Mapped[str] = column(UnicodeText, primary_key=True)
    record_id: Mapped[str] = column(UnicodeText,
                                    ForeignKey("yantai_disclosure_record.id", ondelete="CASCADE"),
                                    nullable=False, index=True)
    kind: Mapped[str] = column(UnicodeText, nullable=False)
    reason: Mapped[str | None] = column(UnicodeText)
    # A digest of the message's content: records with the same content share it (the receiver
    # takes the second as a duplicate), so it is unique per record only.
    idempotency_key: Mapped[str] = column(UnicodeText, nullable=False, index=True)
    status: Mapped[str] = column(UnicodeText, nullable=False, default="pending")
    attempts: Mapped[int] = column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True))
    created: Mapped[dt.datetime] = column(DateTime(timezone=True), nullable=False)
    sent_at: Mapped[dt.datetime | None] = column(DateTime(timezone=True))
    receipt_id: Mapped[str | None] = column(UnicodeText)
    received_at: Mapped[str | None] = column(UnicodeText)
    error: Mapped[str | None] = column(UnicodeText)


class UsageDaily(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A dataset's views, downloads and API calls on one day (usage.py sums them into it)."""

    __tablename__ = "yantai_usage_daily"

    day: Mapped[dt.date] = column(Date, primary_key=True)
    package_id: Mapped[str] = column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                                     primary_key=True)
    views: Mapped[int] = column(Integer, nullable=False, default=0)
    downloads: Mapped[int] = column(Integer, nullable=False, default=0)
    api_calls: Mapped[int] = column(Integer, nullable=False, default=0)
