"""Usage statistics: views, downloads and API calls per dataset and day (usage.py).

Revision ID: e9b4c7d1f2a6
Revises: d7f3a2c8e5b1
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "e9b4c7d1f2a6"
down_revision = "d7f3a2c8e5b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "yantai_usage_daily",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("views", sa.Integer, nullable=False, server_default="0"),
        sa.Column("downloads", sa.Integer, nullable=False, server_default="0"),
        sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("yantai_usage_daily_package", "yantai_usage_daily", ["package_id", "day"])


def downgrade():
    op.drop_table("yantai_usage_daily")
