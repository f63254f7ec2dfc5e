-- Evidence records are found by what they are: the delivery and the kind of event, one each
-- (delivery_evidence_kind_key, unique). The record's own id, a random UUID the database
-- makes and unique by construction, stays for the API, which finds a record through its
-- letter's deliveries; it is no longer indexed. Its index was a random-page insert for each
-- of the two or three records of every delivery, on a table that only grows.
ALTER TABLE delivery_evidence DROP CONSTRAINT delivery_evidence_pkey;
