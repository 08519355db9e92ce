"""双公示 records, for the daily recheck of millions of them: a digest of the rules' result (one
number compared instead of every result column read back), the fields kept as the JSON text they
came as (json: read back verbatim, where jsonb is rebuilt into text on every read), and free space
in the table's pages for updates in place.

Revision ID: d2a9f4c6e1b8
Revises: c5d1e8a7b3f2
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "d2a9f4c6e1b8"
down_revision = "c5d1e8a7b3f2"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("yantai_disclosure_record", sa.Column("result_digest", sa.BigInteger))
    op.execute("ALTER TABLE yantai_disclosure_record ALTER COLUMN fields TYPE json "
               "USING fields::json")
    # Rechecks rewrite result columns: room in each page lets PostgreSQL update rows in place
    # (HOT), without touching the indexes.
    op.execute("ALTER TABLE yantai_disclosure_record SET (fillfactor = 70)")


def downgrade():
    op.execute("ALTER TABLE yantai_disclosure_record RESET (fillfactor)")
    op.execute("ALTER TABLE yantai_disclosure_record ALTER COLUMN fields TYPE jsonb "
               "USING fields::jsonb")
    op.drop_column("yantai_disclosure_record", "result_digest")
