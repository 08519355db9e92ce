"""The proposer of a tier change by user id, not only by name.

A user may rename themselves; a proposal known only by its proposer's name could then be approved
by the proposer under the new name (or by whoever took the old one). Existing proposals get the id
of the user who has that name now.

Revision ID: a9d3e5b7c1f4
Revises: f3b6a9c2d4e7
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "a9d3e5b7c1f4"
down_revision = "f3b6a9c2d4e7"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("yantai_tier_change", sa.Column("proposed_by_id", sa.UnicodeText))
    op.execute("""
        UPDATE yantai_tier_change c SET proposed_by_id = u.id
        FROM "user" u WHERE u.name = c.proposed_by
    """)


def downgrade():
    op.drop_column("yantai_tier_change", "proposed_by_id")
