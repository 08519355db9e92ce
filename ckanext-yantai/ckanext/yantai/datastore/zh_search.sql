-- Chinese search over DataStore rows (ckanext-yantai: ckan yantai datastore-init), after the
-- functions of zh_text.sql: CKAN's full-text trigger fills _full_text with yantai_zh_tsvector, so
-- that any fragment of a Chinese word finds its rows through the GIN index on _full_text.
--
-- Run as the DataStore's write user, after CKAN's `ckan datastore set-permissions` (which
-- recreates populate_full_text_trigger() with to_tsvector and must be followed by this script).

-- CKAN's trigger, filling _full_text of rows written by datastore_create/upsert, with the above.
CREATE OR REPLACE FUNCTION populate_full_text_trigger() RETURNS trigger
AS $body$
    BEGIN
        IF NEW._full_text IS NOT NULL THEN
            RETURN NEW;
        END IF;
        NEW._full_text := (
            SELECT yantai_zh_tsvector(string_agg(value, ' '))
            FROM json_each_text(row_to_json(NEW.*))
            WHERE key NOT LIKE '\_%');
        RETURN NEW;
    END;
$body$ LANGUAGE plpgsql;
