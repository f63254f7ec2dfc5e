-- Idempotency-Key: the first response to a creating request, replayed for retries with the
-- same key (per caller, kept 24 hours).
CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL REFERENCES users (id),
    key           text NOT NULL,
    request_hash  text NOT NULL,
    completed     boolean NOT NULL DEFAULT false,
    status_code   integer,
    content_type  text,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
