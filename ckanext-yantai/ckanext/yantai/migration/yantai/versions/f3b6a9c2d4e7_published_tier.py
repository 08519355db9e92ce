"""The tier each dataset was last published with, the baseline of tier reviews.

A draft may carry any tier while its editor works on it, and an active dataset moved back to draft
may have its tier fields blanked; neither may then be published more openly than before without a
second person. The baseline of every active dataset is taken from its stored fields (a blank one
counts as the most restrictive value); that of a draft or deleted dataset published before, from
its last active snapshot in the activity stream.

Revision ID: f3b6a9c2d4e7
Revises: e4c8b1d7a2f5
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "f3b6a9c2d4e7"
down_revision = "e4c8b1d7a2f5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "yantai_published_tier",
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("open_type", sa.UnicodeText, nullable=False),
        sa.Column("share_type", sa.UnicodeText, nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False,
                  server_default=sa.text("(now() at time zone 'utc')")),
    )
    op.execute("""
        INSERT INTO yantai_published_tier (package_id, open_type, share_type)
        SELECT p.id,
               CASE WHEN o.value IN ('open', 'conditional', 'closed') THEN o.value
                    ELSE 'closed' END,
               CASE WHEN s.value IN ('unconditional', 'conditional', 'none') THEN s.value
                    ELSE 'none' END
        FROM package p
        LEFT JOIN package_extra o
               ON o.package_id = p.id AND o.key = 'open_type' AND o.state = 'active'
        LEFT JOIN package_extra s
               ON s.package_id = p.id AND s.key = 'share_type' AND s.state = 'active'
        WHERE p.type = 'dataset' AND p.state = 'active'
    """)
    # A dataset now in draft or deleted that was published before: its tier when last active,
    # from the activity stream's snapshots (when the activity plugin keeps them).
    if op.get_bind().execute(sa.text("SELECT to_regclass('activity')")).scalar() is None:
        return
    op.execute("""
        INSERT INTO yantai_published_tier (package_id, open_type, share_type)
        SELECT DISTINCT ON (a.object_id) a.object_id,
               CASE WHEN a.data::json -> 'package' ->> 'open_type'
                         IN ('open', 'conditional', 'closed')
                    THEN a.data::json -> 'package' ->> 'open_type' ELSE 'closed' END,
               CASE WHEN a.data::json -> 'package' ->> 'share_type'
                         IN ('unconditional', 'conditional', 'none')
                    THEN a.data::json -> 'package' ->> 'share_type' ELSE 'none' END
        FROM activity a JOIN package p ON p.id = a.object_id
        WHERE p.type = 'dataset' AND p.state <> 'active'
          AND a.data IS NOT NULL AND a.data LIKE '{%'
          AND a.data::json -> 'package' ->> 'state' = 'active'
        ORDER BY a.object_id, a.timestamp DESC
    """)


def downgrade():
    op.drop_table("yantai_published_tier")
