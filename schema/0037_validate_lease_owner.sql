-- The rows written before 0035 hold to its rule too (every version of the worker cleared the
-- owner on every way out of a lease); checked here, in a transaction of its own, under a
-- SHARE UPDATE EXCLUSIVE lock, so the scan does not stop the table being read or written.
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_lease_owner_check;
