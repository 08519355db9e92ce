"""双公示 records, their checks and their pushes to 信用烟台.

Revision ID: c5d1e8a7b3f2
Revises: b7e2d4c1f0a3
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "c5d1e8a7b3f2"
down_revision = "b7e2d4c1f0a3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "yantai_disclosure_record",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("resource_id", sa.UnicodeText,
                  sa.ForeignKey("resource.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("organization_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("record_type", sa.UnicodeText, nullable=False),
        sa.Column("record_key", sa.UnicodeText, nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("extra", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_public_at", sa.DateTime(timezone=True)),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("errors", JSONB, nullable=False),
        sa.Column("warnings", JSONB, nullable=False),
        sa.Column("decision_date", sa.Date, index=True),
        sa.Column("deadline", sa.Date),
        sa.Column("timeliness", sa.UnicodeText),
        sa.Column("working_days_late", sa.Integer, nullable=False),
        sa.Column("publish", sa.UnicodeText, nullable=False),
        sa.Column("publicity_end", sa.Date),
        sa.Column("missing_year", sa.Integer),
        sa.Column("push_status", sa.UnicodeText, nullable=False),
        sa.UniqueConstraint("resource_id", "record_key",
                            name="yantai_disclosure_record_resource_key"),
    )
    op.create_table(
        "yantai_credit_push",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("record_id", sa.UnicodeText,
                  sa.ForeignKey("yantai_disclosure_record.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("reason", sa.UnicodeText),
        sa.Column("idempotency_key", sa.UnicodeText, nullable=False, unique=True),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("receipt_id", sa.UnicodeText),
        sa.Column("received_at", sa.UnicodeText),
        sa.Column("error", sa.UnicodeText),
    )
    op.create_index("yantai_credit_push_due", "yantai_credit_push",
                    ["status", "next_attempt_at"])


def downgrade():
    op.drop_table("yantai_credit_push")
    op.drop_table("yantai_disclosure_record")
