"""Pushes to 信用烟台: an idempotency key is unique per record, not across the portal.

The key is a digest of the message's content, so two records with the same content (the same
decision published in a department's own resource and in an aggregating department's feed) have
the same key; a portal-wide unique key made the second record's intake fail. The receiver treats
the second message as the duplicate it is.

Revision ID: e4c8b1d7a2f5
Revises: d2a9f4c6e1b8
Create Date: 2026-11-27
"""
from alembic import op

revision = "e4c8b1d7a2f5"
down_revision = "d2a9f4c6e1b8"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint("yantai_credit_push_idempotency_key_key", "yantai_credit_push",
                       type_="unique")
    op.create_unique_constraint("yantai_credit_push_record_key", "yantai_credit_push",
                                ["record_id", "idempotency_key"])
    op.create_index("ix_yantai_credit_push_idempotency_key", "yantai_credit_push",
                    ["idempotency_key"])


def downgrade():
    # The older schema holds one push per key across the portal: keep each key's first push (the
    # others are the same message, which the credit site took once).
    op.execute("""
        DELETE FROM yantai_credit_push p USING yantai_credit_push q
        WHERE p.idempotency_key = q.idempotency_key AND (q.created, q.id) < (p.created, p.id)
    """)
    op.drop_index("ix_yantai_credit_push_idempotency_key", "yantai_credit_push")
    op.drop_constraint("yantai_credit_push_record_key", "yantai_credit_push", type_="unique")
    op.create_unique_constraint("yantai_credit_push_idempotency_key_key", "yantai_credit_push",
                                ["idempotency_key"])
