-- 0012: cross-script name search. The phonetic name key is now computed from either script
-- (Devanagari is transliterated first, see src/opd/names.rs), so "यादव" finds "Yadav" and the
-- reverse. `search_key` holds the key words of both the name and the Devanagari name; the FTS
-- index searches it instead of `name_key` (which stays the key of the name alone, for the
-- duplicate checks). Existing rows get their keys recomputed by the `swagat_name_key` and
-- `swagat_search_key` SQL functions, which the store registers on every connection from the same
-- Rust code the app uses for new rows.
DROP TRIGGER patients_fts_insert;
DROP TRIGGER patients_fts_delete;
DROP TRIGGER patients_fts_update;
DROP TABLE patients_fts;

ALTER TABLE patients ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
UPDATE patients SET name_key = swagat_name_key(name), search_key = swagat_search_key(name, name_hi);

CREATE VIRTUAL TABLE patients_fts USING fts5 (
    name, search_key, name_hi,
    content = 'patients', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5'
);
CREATE TRIGGER patients_fts_insert AFTER INSERT ON patients BEGIN
    INSERT INTO patients_fts (rowid, name, search_key, name_hi)
    VALUES (new.rowid, new.name, new.search_key, new.name_hi);
END;
CREATE TRIGGER patients_fts_delete AFTER DELETE ON patients BEGIN
    INSERT INTO patients_fts (patients_fts, rowid, name, search_key, name_hi)
    VALUES ('delete', old.rowid, old.name, old.search_key, old.name_hi);
END;
CREATE TRIGGER patients_fts_update AFTER UPDATE OF name, search_key, name_hi ON patients BEGIN
    INSERT INTO patients_fts (patients_fts, rowid, name, search_key, name_hi)
    VALUES ('delete', old.rowid, old.name, old.search_key, old.name_hi);
    INSERT INTO patients_fts (rowid, name, search_key, name_hi)
    VALUES (new.rowid, new.name, new.search_key, new.name_hi);
END;
INSERT INTO patients_fts (patients_fts) VALUES ('rebuild');
