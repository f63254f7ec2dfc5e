-- Constraints and indexes that cost every delivery a lookup or an index insert and bought
-- nothing another one does not already guarantee.

-- An inbox entry and an evidence record each reference their delivery (NOT NULL, foreign
-- key), and the delivery references its letter and recipient unit: the letter and unit keys of
-- these rows were checked a second time, each check a KEY SHARE lock on a letter row that the
-- worker then updates. The columns stay, for reading without a join.
ALTER TABLE inbox_entries DROP CONSTRAINT inbox_entries_letter_id_fkey;
ALTER TABLE inbox_entries DROP CONSTRAINT inbox_entries_unit_id_fkey;
ALTER TABLE delivery_evidence DROP CONSTRAINT delivery_evidence_letter_id_fkey;

-- Evidence is found through its delivery (deliveries_letter_recipient_key, then
-- delivery_evidence_kind_key); a second index by letter was one more insert per record.
DROP INDEX delivery_evidence_letter_idx;

-- Events are found by sequence, chain position, object or time, never by id; the id is a
-- random UUID made by the database, unique by construction, and its unique index was a
-- random-page insert for every event the system records.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_id_key;
