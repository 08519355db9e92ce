"""数据应用: applications built on the portal's data, submitted by users and published after
review, with the datasets each one uses.

Revision ID: d7f3a2c8e5b1
Revises: c2d8a5f1e7b3
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "d7f3a2c8e5b1"
down_revision = "c2d8a5f1e7b3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "yantai_application",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("title", sa.UnicodeText, nullable=False),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("description", sa.UnicodeText, nullable=False),
        sa.Column("url", sa.UnicodeText, nullable=False),
        sa.Column("developer", sa.UnicodeText, nullable=False),
        sa.Column("submitted_by", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("created", sa.DateTime, nullable=False, index=True),
        sa.Column("status", sa.UnicodeText, nullable=False, index=True),
        sa.Column("reviewed_by", sa.UnicodeText),
        sa.Column("reviewed_at", sa.DateTime),
        sa.Column("review_note", sa.UnicodeText),
    )
    op.create_table(
        "yantai_application_dataset",
        sa.Column("application_id", sa.UnicodeText,
                  sa.ForeignKey("yantai_application.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("package_id", sa.UnicodeText, sa.ForeignKey("package.id", ondelete="CASCADE"),
                  primary_key=True, index=True),
    )


def downgrade():
    op.drop_table("yantai_application_dataset")
    op.drop_table("yantai_application")
