-- What dispatch workers running side by side waited on and paid for, per delivery.

-- Claims take ready deliveries a letter at a time. Deliveries signed together share their
-- next_attempt_at, and ordered by that alone a batch took whatever the heap order gave: in a
-- backlog written recipient by recipient, fifty letters with one delivery each. Every batch
-- then locked and updated fifty letter rows (the pending count) and wrote fifty audit
-- events, and every letter's row was fought over by sixty-one batches. Ordered by
-- (next_attempt_at, letter_id) a batch covers one or two letters.
DROP INDEX deliveries_ready_idx;
CREATE INDEX deliveries_ready_idx ON deliveries (next_attempt_at, letter_id) WHERE state = 'pending';

-- A delivery is updated twice (leased, then delivered) and neither update can be HOT: the
-- state is in every partial index's predicate. With room on its page the new version stays
-- there: one page dirtied and logged instead of two, and no relation extension, which
-- PostgreSQL 15 serialises, for each update.
ALTER TABLE deliveries SET (fillfactor = 50);

-- Inbox entries and evidence records are only ever written from their delivery's row: with
-- it at signing, by the statement that completes it, or when the receiving clerk registers
-- the letter; and deliveries are never deleted. The foreign keys' checks were a query and a
-- row lock (a WAL record and a dirtied page) per row: two per delivery, about a tenth of
-- the database's work in a drain (perf: 6.7% of the machine in the triggers' queries).
ALTER TABLE inbox_entries DROP CONSTRAINT inbox_entries_delivery_id_fkey;
ALTER TABLE delivery_evidence DROP CONSTRAINT delivery_evidence_delivery_id_fkey;
