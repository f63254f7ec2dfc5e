-- How many of a letter's deliveries are not delivered yet: set when it is signed, lowered by
-- each completed delivery under the letter's row lock, so the worker that brings it to zero
-- knows the letter is delivered without counting the deliveries table.
ALTER TABLE letters ADD COLUMN pending_deliveries integer NOT NULL DEFAULT 0;
UPDATE letters l SET pending_deliveries = (SELECT count(*) FROM deliveries d WHERE d.letter_id = l.id AND d.state <> 'delivered')
WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.letter_id = l.id);
