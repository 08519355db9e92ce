"""Resource checks: the last reachability check of each resource.

Revision ID: a1f3c0d9e2b4
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "a1f3c0d9e2b4"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "yantai_resource_check",
        sa.Column("resource_id", sa.UnicodeText,
                  sa.ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("checked_at", sa.DateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.UnicodeText),
    )


def downgrade():
    op.drop_table("yantai_resource_check")
