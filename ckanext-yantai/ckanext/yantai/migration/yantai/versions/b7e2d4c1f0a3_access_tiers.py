"""Access tiers: access requests, tier change proposals and the audit log.

Revision ID: b7e2d4c1f0a3
Revises: a1f3c0d9e2b4
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "b7e2d4c1f0a3"
down_revision = "a1f3c0d9e2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "yantai_access_request",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("organization_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("purpose", sa.UnicodeText, nullable=False),
        sa.Column("intended_use", sa.UnicodeText, nullable=False),
        sa.Column("applicant_organization", sa.UnicodeText, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("commitment_accepted", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("review_deadline", sa.Date),
        sa.Column("decided_by", sa.UnicodeText),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("expires", sa.Date),
        sa.Column("reason", sa.UnicodeText),
        sa.Column("revoked_by", sa.UnicodeText),
        sa.Column("revoked_at", sa.DateTime),
    )
    op.create_table(
        "yantai_tier_change",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("organization_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("proposed_by", sa.UnicodeText, nullable=False),
        sa.Column("proposed_at", sa.DateTime, nullable=False),
        sa.Column("current", JSONB, nullable=False),
        sa.Column("proposed", JSONB, nullable=False),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("decided_by", sa.UnicodeText),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("reason", sa.UnicodeText),
    )
    # No foreign keys: the audit log outlives the datasets and users it names.
    op.create_table(
        "yantai_audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("actor", sa.UnicodeText),
        sa.Column("event", sa.UnicodeText, nullable=False),
        sa.Column("package_id", sa.UnicodeText, index=True),
        sa.Column("resource_id", sa.UnicodeText),
        sa.Column("organization_id", sa.UnicodeText, index=True),
        sa.Column("detail", JSONB, nullable=False),
    )


def downgrade():
    op.drop_table("yantai_audit_log")
    op.drop_table("yantai_tier_change")
    op.drop_table("yantai_access_request")
