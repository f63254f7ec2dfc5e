-- Failed and rate-limited logins no longer write an audit event each: anonymous clients
-- could grow the append-only audit table without limit. The attempts stay in this expiring
-- table (a refused one marked, and not counted towards the limits), and housekeeping writes
-- one audit summary per hour before it deletes that hour's rows a day later.
ALTER TABLE login_failures ADD COLUMN rate_limited boolean NOT NULL DEFAULT false;
