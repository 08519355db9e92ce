"""Tables of the portal (created by migration/yantai)."""
from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Integer,
                        UnicodeText, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSON, JSONB


class ResourceCheck(tk.BaseModel):  # type: ignore[misc, valid-type]
    """The last reachability check of a resource (one row per resource)."""

    __tablename__ = "yantai_resource_check"

    resource_id = Column(UnicodeText, ForeignKey("resource.id", ondelete="CASCADE"),
                         primary_key=True)
    checked_at = Column(DateTime, nullable=False, default=dt.datetime.utcnow)
    ok = Column(Boolean, nullable=False)
    status_code = Column(Integer)
    error = Column(UnicodeText)


class AccessRequest(tk.BaseModel):  # type: ignore[misc, valid-type]
    """An application for a dataset's data: 有条件开放 (``open``) or a government share request
    under 有条件共享 (``share``). Expiry is derived: approved and ``expires`` before today."""

    __tablename__ = "yantai_access_request"

    id = Column(UnicodeText, primary_key=True)
    package_id = Column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    organization_id = Column(UnicodeText, nullable=False, index=True)
    user_id = Column(UnicodeText, ForeignKey("user.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    kind = Column(UnicodeText, nullable=False)
    status = Column(UnicodeText, nullable=False, default="pending")
    purpose = Column(UnicodeText, nullable=False)
    intended_use = Column(UnicodeText, nullable=False)
    applicant_organization = Column(UnicodeText, nullable=False)
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    commitment_accepted = Column(Boolean, nullable=False)
    created = Column(DateTime, nullable=False, default=dt.datetime.utcnow)
    review_deadline = Column(Date)
    decided_by = Column(UnicodeText)
    decided_at = Column(DateTime)
    expires = Column(Date)
    reason = Column(UnicodeText)
    revoked_by = Column(UnicodeText)
    revoked_at = Column(DateTime)


class TierChange(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A proposal to make a dataset more open, waiting for a second person's approval."""

    __tablename__ = "yantai_tier_change"

    id = Column(UnicodeText, primary_key=True)
    package_id = Column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    organization_id = Column(UnicodeText, nullable=False, index=True)
    proposed_by = Column(UnicodeText, nullable=False)
    proposed_at = Column(DateTime, nullable=False, default=dt.datetime.utcnow)
    current = Column(JSONB, nullable=False)
    proposed = Column(JSONB, nullable=False)
    status = Column(UnicodeText, nullable=False, default="pending")
    decided_by = Column(UnicodeText)
    decided_at = Column(DateTime)
    reason = Column(UnicodeText)


class PublishedTier(tk.BaseModel):  # type: ignore[misc, valid-type]
    """The tier a dataset was last published with (or approved to): what a later update is
    compared with to decide whether it widens access. A draft's own fields may differ (an
    editor works on it freely); a dataset never published has no row."""

    __tablename__ = "yantai_published_tier"

    package_id = Column(UnicodeText, ForeignKey("package.id", ondelete="CASCADE"),
                        primary_key=True)
    open_type = Column(UnicodeText, nullable=False)
    share_type = Column(UnicodeText, nullable=False)
    published_at = Column(DateTime, nullable=False, default=dt.datetime.utcnow)


class AuditEntry(tk.BaseModel):  # type: ignore[misc, valid-type]
    """Who did what to which dataset, and when: decisions, downloads of restricted data, refused
    classified content (never the content itself)."""

    __tablename__ = "yantai_audit_log"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime, nullable=False, default=dt.datetime.utcnow, index=True)
    actor = Column(UnicodeText)
    event = Column(UnicodeText, nullable=False)
    package_id = Column(UnicodeText, index=True)
    resource_id = Column(UnicodeText)
    organization_id = Column(UnicodeText, index=True)
    detail = Column(JSONB, nullable=False, default=dict)


class DisclosureRecord(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A 双公示 record as the department sent it, with what the rules say about it.

    The full values stay here (the credit push needs them); the DataStore table of the resource
    holds the public, masked form of the records that may be public (``public``).
    ``first_public_at`` is the portal's own clock: when the record first went online here.
    """

    __tablename__ = "yantai_disclosure_record"

    id = Column(UnicodeText, primary_key=True)
    resource_id = Column(UnicodeText, ForeignKey("resource.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    package_id = Column(UnicodeText, nullable=False, index=True)
    organization_id = Column(UnicodeText, nullable=False, index=True)
    record_type = Column(UnicodeText, nullable=False)
    record_key = Column(UnicodeText, nullable=False)
    fields = Column(JSON, nullable=False)  # json, not jsonb: read back verbatim by rechecks
    extra = Column(JSONB, nullable=False, default=dict)
    received_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    first_public_at = Column(DateTime(timezone=True))
    public = Column(Boolean, nullable=False, default=False)
    withdrawn_at = Column(DateTime(timezone=True))
    checked_at = Column(DateTime(timezone=True), nullable=False)
    valid = Column(Boolean, nullable=False)
    errors = Column(JSONB, nullable=False, default=list)
    warnings = Column(JSONB, nullable=False, default=list)
    decision_date = Column(Date, index=True)
    deadline = Column(Date)
    timeliness = Column(UnicodeText)
    working_days_late = Column(Integer, nullable=False, default=0)
    publish = Column(UnicodeText, nullable=False)
    publicity_end = Column(Date)
    missing_year = Column(Integer)
    push_status = Column(UnicodeText, nullable=False, default="none")
    result_digest = Column(BigInteger)  # of the result columns (compliance.outcome)


class CreditPush(tk.BaseModel):  # type: ignore[misc, valid-type]
    """One message to 信用烟台 (publish or withdraw) and its receipt; retried until received."""

    __tablename__ = "yantai_credit_push"
    __table_args__ = (UniqueConstraint("record_id", "idempotency_key",
                                       name="yantai_credit_push_record_key"),)

    id = Column(UnicodeText, primary_key=True)
    record_id = Column(UnicodeText, ForeignKey("yantai_disclosure_record.id", ondelete="CASCADE"),
                       nullable=False, index=True)
    kind = Column(UnicodeText, nullable=False)
    reason = Column(UnicodeText)
    # A digest of the message's content: records with the same content share it (the receiver
    # takes the second as a duplicate), so it is unique per record only.
    idempotency_key = Column(UnicodeText, nullable=False, index=True)
    status = Column(UnicodeText, nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True))
    created = Column(DateTime(timezone=True), nullable=False)
    sent_at = Column(DateTime(timezone=True))
    receipt_id = Column(UnicodeText)
    received_at = Column(UnicodeText)
    error = Column(UnicodeText)
