"""The credit lookup (信用信息一站式查询): each 双公示 record keeps who it is about
(``disclosure.parties``: the market entity's unified social credit code, its public name, that
name as searched, the decision document number), and ``yantai_credit_party`` holds one row per
market entity with a public record, its names indexed by character pairs (the functions of
``datastore/zh_text.sql``, installed in CKAN's database too).

The database keeps ``yantai_credit_party`` itself: a statement trigger on the records refreshes
the entities whose records were written, went public or left, whatever wrote them (an intake, the
daily recheck, a deleted resource). Two transactions changing one entity's records at once may
leave its row a step behind; ``yantai_credit_party_rebuild()`` (run after each daily recheck)
sets every row again.

Revision ID: b8e1f6a4c9d2
Revises: a9d3e5b7c1f4
Create Date: 2026-12-05
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "b8e1f6a4c9d2"
down_revision = "a9d3e5b7c1f4"
branch_labels = None
depends_on = None

TABLE = "yantai_disclosure_record"
KEY_COLUMNS = ("party_code", "party_name", "party_search", "document_number")

PARTY_SQL = """
CREATE TABLE yantai_credit_party (
    code text PRIMARY KEY,
    name text NOT NULL,          -- the name on its latest public record, as every channel shows it
    search text NOT NULL,        -- every name of its public records, as searched
    search_vector tsvector NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX yantai_credit_party_search_idx ON yantai_credit_party USING gin (search_vector);
CREATE INDEX yantai_credit_party_name_idx ON yantai_credit_party (name, code);

-- The entities of these codes made to match their public records.
CREATE OR REPLACE FUNCTION yantai_credit_party_refresh(codes text[]) RETURNS void
LANGUAGE plpgsql AS $body$
BEGIN
  DELETE FROM yantai_credit_party p WHERE p.code = ANY(codes) AND NOT EXISTS (
    SELECT 1 FROM yantai_disclosure_record r WHERE r.party_code = p.code AND r.public);
  INSERT INTO yantai_credit_party AS p (code, name, search, search_vector, updated_at)
  SELECT r.party_code,
         (array_agg(r.party_name ORDER BY r.decision_date DESC NULLS LAST, r.updated_at DESC,
                    r.id))[1],
         string_agg(DISTINCT r.party_search, ' '),
         yantai_zh_tsvector(string_agg(DISTINCT r.party_search, ' ')),
         now()
  FROM yantai_disclosure_record r
  WHERE r.party_code = ANY(codes) AND r.public
  GROUP BY r.party_code
  ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, search = EXCLUDED.search,
    search_vector = EXCLUDED.search_vector, updated_at = EXCLUDED.updated_at;
END
$body$;

-- Every entity set again from the records.
CREATE OR REPLACE FUNCTION yantai_credit_party_rebuild() RETURNS void
LANGUAGE plpgsql AS $body$
BEGIN
  DELETE FROM yantai_credit_party p WHERE NOT EXISTS (
    SELECT 1 FROM yantai_disclosure_record r WHERE r.party_code = p.code AND r.public);
  PERFORM yantai_credit_party_refresh(ARRAY(
    SELECT DISTINCT party_code FROM yantai_disclosure_record
    WHERE public AND party_code IS NOT NULL));
END
$body$;

CREATE OR REPLACE FUNCTION yantai_credit_party_changed() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM yantai_credit_party_refresh(ARRAY(
      SELECT DISTINCT party_code FROM new_rows WHERE party_code IS NOT NULL AND public));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM yantai_credit_party_refresh(ARRAY(
      SELECT DISTINCT party_code FROM old_rows WHERE party_code IS NOT NULL AND public));
  ELSE
    PERFORM yantai_credit_party_refresh(ARRAY(
      SELECT n.party_code FROM new_rows n JOIN old_rows o USING (id)
      WHERE n.party_code IS NOT NULL
        AND (n.public, n.party_code, n.party_name, n.party_search, n.decision_date)
            IS DISTINCT FROM (o.public, o.party_code, o.party_name, o.party_search, o.decision_date)
      UNION
      SELECT o.party_code FROM new_rows n JOIN old_rows o USING (id)
      WHERE o.party_code IS NOT NULL AND o.party_code IS DISTINCT FROM n.party_code));
  END IF;
  RETURN NULL;
END
$body$;
"""

TRIGGERS_SQL = """
CREATE TRIGGER yantai_credit_party_insert AFTER INSERT ON yantai_disclosure_record
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION yantai_credit_party_changed();
CREATE TRIGGER yantai_credit_party_update AFTER UPDATE ON yantai_disclosure_record
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION yantai_credit_party_changed();
CREATE TRIGGER yantai_credit_party_delete AFTER DELETE ON yantai_disclosure_record
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION yantai_credit_party_changed();
"""


def _backfill(connection):
    """The lookup keys of the records already kept, a batch at a time."""
    from ckanext.yantai.disclosure import parties

    last = ""
    while True:
        rows = connection.execute(sa.text(
            f"SELECT id, record_type, fields::text FROM {TABLE} WHERE id > :last "
            "ORDER BY id LIMIT 5000"), {"last": last}).fetchall()
        if not rows:
            return
        values = []
        for record_id, record_type, fields in rows:
            keys = parties.keys(record_type, json.loads(fields))
            values.append({"id": record_id, **dict(zip(KEY_COLUMNS, keys, strict=True))})
        connection.execute(sa.text(
            f"UPDATE {TABLE} SET party_code = :party_code, party_name = :party_name, "
            "party_search = :party_search, document_number = :document_number WHERE id = :id"),
            values)
        last = rows[-1][0]


def upgrade():
    from ckanext.yantai.datastore import search

    connection = op.get_bind()
    cursor = connection.connection.cursor()  # the script as it is: no parameters, no % escapes
    try:
        cursor.execute(search.text_sql())
    finally:
        cursor.close()
    for name in KEY_COLUMNS:
        op.add_column(TABLE, sa.Column(name, sa.UnicodeText))
    _backfill(connection)
    op.execute(f"CREATE INDEX yantai_disclosure_record_party_idx ON {TABLE} (party_code) "
               "WHERE public")
    op.execute(f"CREATE INDEX yantai_disclosure_record_document_idx ON {TABLE} "
               "(document_number) WHERE public")
    op.execute(PARTY_SQL)
    op.execute(TRIGGERS_SQL)
    op.execute("SELECT yantai_credit_party_rebuild()")


def downgrade():
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS yantai_credit_party_{trigger} ON {TABLE}")
    op.execute("DROP FUNCTION IF EXISTS yantai_credit_party_changed()")
    op.execute("DROP FUNCTION IF EXISTS yantai_credit_party_rebuild()")
    op.execute("DROP FUNCTION IF EXISTS yantai_credit_party_refresh(text[])")
    op.drop_table("yantai_credit_party")
    op.execute("DROP INDEX IF EXISTS yantai_disclosure_record_document_idx")
    op.execute("DROP INDEX IF EXISTS yantai_disclosure_record_party_idx")
    for name in KEY_COLUMNS:
        op.drop_column(TABLE, name)
    # the search functions stay: where CKAN's database is the DataStore's too, its full-text
    # trigger uses them
