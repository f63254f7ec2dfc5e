-- A delivery has a lease owner exactly while it is leased: the claim sets both, and every
-- way out of the lease (completion, failure, reclaim, release at shutdown) clears the owner.
-- With that stated here, the worker's fenced completion (lease owner and attempt) need not
-- also say state = 'leased'. Saying it let the planner reach the rows through the partial
-- lease index: every lease of every worker, and the index entries of leases long ended
-- (2,600 entries for a batch of 100 with four workers running), each joined against the
-- whole batch, instead of a hundred primary-key lookups.
ALTER TABLE deliveries ADD CONSTRAINT deliveries_lease_owner_check CHECK ((state = 'leased') = (lease_owner IS NOT NULL));
