-- Evidence records are keyed by what they are: the delivery and the kind of event, one each.
-- The record's own id (a random UUID the database makes, unique by construction) stays for
-- the API, which finds a record through its letter's deliveries, but is no longer indexed:
-- its index was a random-page insert for each of the two or three records of every delivery.
ALTER TABLE delivery_evidence DROP CONSTRAINT delivery_evidence_pkey;
ALTER TABLE delivery_evidence DROP CONSTRAINT delivery_evidence_kind_key;
ALTER TABLE delivery_evidence ADD CONSTRAINT delivery_evidence_pkey PRIMARY KEY (delivery_id, kind);
