"""数据需求 and 纠错: requests for data that is not published and reports of errors in datasets,
with the department's public answer and the users who follow them.

Revision ID: c2d8a5f1e7b3
Revises: b8e1f6a4c9d2
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "c2d8a5f1e7b3"
down_revision = "b8e1f6a4c9d2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "yantai_data_request",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("title", sa.UnicodeText, nullable=False),
        sa.Column("description", sa.UnicodeText, nullable=False),
        sa.Column("purpose", sa.UnicodeText),
        sa.Column("organization_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE")),
        sa.Column("resource_id", sa.UnicodeText),
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("created", sa.DateTime, nullable=False, index=True),
        sa.Column("deadline", sa.Date),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("outcome", sa.UnicodeText),
        sa.Column("answer", sa.UnicodeText),
        sa.Column("answer_package_id", sa.UnicodeText),
        sa.Column("answered_by", sa.UnicodeText),
        sa.Column("answered_at", sa.DateTime),
    )
    op.create_table(
        "yantai_data_request_follower",
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("yantai_data_request.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"),
                  primary_key=True, index=True),
        sa.Column("created", sa.DateTime, nullable=False),
    )


def downgrade():
    op.drop_table("yantai_data_request_follower")
    op.drop_table("yantai_data_request")
