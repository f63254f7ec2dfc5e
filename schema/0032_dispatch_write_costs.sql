-- What each delivery writes, made cheaper (the dispatch worker writes an inbox entry, an
-- evidence record and an audit event per recipient, tens of thousands a minute at peak).

-- The document's hash, computed once when it is stored: every claim of a delivery batch and
-- every evidence record states it, and hashing the document there meant reading it back out
-- of line each time.
ALTER TABLE letter_documents ADD COLUMN document_sha256 text GENERATED ALWAYS AS (encode(sha256(document), 'hex')) STORED;

-- Agenda numbers are unique per unit once given; entries not yet registered have none, and
-- indexing their NULLs cost each new inbox entry an index insert for nothing.
ALTER TABLE inbox_entries DROP CONSTRAINT inbox_entries_agenda_key;
CREATE UNIQUE INDEX inbox_entries_agenda_key ON inbox_entries (unit_id, agenda_number) WHERE agenda_number IS NOT NULL;

-- Likewise chain positions: the sealer gives them after the insert, so every event used to be
-- indexed twice in this index, once as NULL. Every reader asks for sealed events only.
DROP INDEX audit_events_chain_seq_key;
CREATE UNIQUE INDEX audit_events_chain_seq_key ON audit_events (chain_seq) WHERE chain_seq IS NOT NULL;
