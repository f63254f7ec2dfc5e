-- Dispatch workers announce themselves and beat a heartbeat. A worker whose heartbeat stops
-- (killed, its machine gone, hung) has its leases expired by the others at once, instead of
-- its deliveries waiting out the whole lease; live workers renew their leases with the same
-- beat, so a long batch is never taken from a worker that is still at it.
CREATE TABLE dispatch_workers (
    owner         text PRIMARY KEY,
    host          text NOT NULL,
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    -- Set when the worker stopped cleanly, or when others found its heartbeat gone.
    stopped_at    timestamptz,
    stop_reason   text CHECK (stop_reason IN ('shutdown', 'heartbeat_lost'))
);
CREATE INDEX dispatch_workers_alive_idx ON dispatch_workers (heartbeat_at) WHERE stopped_at IS NULL;
