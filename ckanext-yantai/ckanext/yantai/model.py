"""Tables of the portal (created by migration/yantai)."""
from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, UnicodeText


class ResourceCheck(tk.BaseModel):  # type: ignore[misc, valid-type]
    """The last reachability check of a resource (one row per resource)."""

    __tablename__ = "yantai_resource_check"

    resource_id = Column(UnicodeText, ForeignKey("resource.id", ondelete="CASCADE"),
                         primary_key=True)
    checked_at = Column(DateTime, nullable=False, default=dt.datetime.utcnow)
    ok = Column(Boolean, nullable=False)
    status_code = Column(Integer)
    error = Column(UnicodeText)
