-- Chinese text search by character pairs (ckanext-yantai), in the DataStore database (its rows,
-- zh_search.sql) and in CKAN's own (the credit lookup's names, migration credit_parties).
--
-- PostgreSQL's text-search parser reads a run of Chinese characters as one word, so a row holding
-- 烟台市恒瑞食品有限公司 was found by that whole run only. Here every run of CJK characters is
-- indexed by its character pairs (烟台 台市 市恒 恒瑞 瑞食 食品 …) and its last character, other
-- text by the 'simple' configuration (words and numbers, lower-cased; a hyphen separates, as
-- the parser would read ABC-2026 as abc and -2026), after NFKC normalisation (full-width letters
-- and digits are ASCII). A query is the AND of the pairs of its own runs; a
-- run of one character matches as a prefix (市 finds 市恒 and a final 市). So 食品, 烟台, 餐饮 or any
-- fragment of a name finds its rows through a GIN index on the vectors.
--
-- A change here changes what is indexed: it needs a migration that installs it again and rebuilds
-- the credit lookup's vectors (tests/yantai/disclosure/test_lookup.py compares the installed
-- functions with this file).

CREATE OR REPLACE FUNCTION yantai_zh_tsvector(t text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
DECLARE
  n text := normalize(t, NFKC);
  -- the CJK runs alone, separated by spaces
  c text := regexp_replace(n, '[^㐀-䶿一-鿿豈-﫿𠀀-𱍏]+', ' ', 'g');
BEGIN
  RETURN array_to_tsvector(array_remove(string_to_array(
           -- pairs from each run's first character, then from its second: every pair
           regexp_replace(c, '([㐀-䶿一-鿿豈-﫿𠀀-𱍏]{2})', '\1 ', 'g') || ' ' ||
           regexp_replace(regexp_replace(c, '(^| )[㐀-䶿一-鿿豈-﫿𠀀-𱍏]', '\1', 'g'),
                          '([㐀-䶿一-鿿豈-﫿𠀀-𱍏]{2})', '\1 ', 'g'),
           ' '), ''))
         || to_tsvector('simple', regexp_replace(n, '[㐀-䶿一-鿿豈-﫿𠀀-𱍏]+|-', ' ', 'g'));
END
$body$;

-- A query for yantai_zh_tsvector: the AND of every word, CJK runs by their pairs. NULL (no
-- condition) for a query without a word.
CREATE OR REPLACE FUNCTION yantai_zh_tsquery(q text) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
DECLARE
  n text := normalize(q, NFKC);
  run text;
  terms text[] := '{}';
  -- a letter-or-digit word followed by :* (to_tsquery's prefix) matches as a prefix
  prefixes text[] := ARRAY(SELECT quote_literal(lower(m[1])) || ':*'
                           FROM regexp_matches(n, '([0-9A-Za-z]+):\*', 'g') AS m);
  rest_text text := regexp_replace(regexp_replace(n, '[0-9A-Za-z]+:\*', ' ', 'g'),
                                   '[㐀-䶿一-鿿豈-﫿𠀀-𱍏]+|-', ' ', 'g');
  rest tsquery;
BEGIN
  terms := terms || prefixes;
  FOR run IN SELECT m[1] FROM regexp_matches(n, '([㐀-䶿一-鿿豈-﫿𠀀-𱍏]+)', 'g') AS m LOOP
    IF char_length(run) = 1 THEN
      terms := terms || (quote_literal(run) || ':*');
    ELSE
      terms := terms || ARRAY(SELECT quote_literal(substr(run, i, 2))
                              FROM generate_series(1, char_length(run) - 1) AS i);
    END IF;
  END LOOP;
  IF rest_text ~ '[[:alnum:]]' THEN  -- (plainto_tsquery notices a text without a word)
    rest := plainto_tsquery('simple', rest_text);
  END IF;
  IF cardinality(terms) = 0 THEN
    RETURN CASE WHEN numnode(rest) > 0 THEN rest END;
  END IF;
  IF rest IS NULL OR numnode(rest) = 0 THEN
    RETURN array_to_string(terms, ' & ')::tsquery;
  END IF;
  RETURN array_to_string(terms, ' & ')::tsquery && rest;
END
$body$;
