-- Audit archive exports (BagIt bags in tar), run as background jobs by any replica: a job is
-- claimed with SKIP LOCKED and a lease; the tar is kept in the database in chunks, so any
-- replica behind the load balancer can stream the download.
CREATE TABLE archive_exports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    requested_by    uuid NOT NULL REFERENCES users (id),
    unit_id         uuid REFERENCES units (id),
    from_date       date NOT NULL,
    to_date         date NOT NULL,
    classification  text,
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    letters         integer NOT NULL DEFAULT 0,
    bytes           bigint NOT NULL DEFAULT 0,
    sha256          text CHECK (sha256 IS NULL OR sha256 ~ '^[0-9a-f]{64}$'),
    error           text,
    lease_owner     text,
    lease_expires_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CONSTRAINT archive_exports_range CHECK (to_date >= from_date)
);
CREATE INDEX archive_exports_pending_idx ON archive_exports (created_at) WHERE state IN ('queued', 'running');

CREATE TABLE archive_export_chunks (
    export_id  uuid NOT NULL REFERENCES archive_exports (id),
    n          integer NOT NULL,
    content    bytea NOT NULL,
    PRIMARY KEY (export_id, n)
);

-- Letters selected by signing time (keyset pages of (signed_at, id)).
CREATE INDEX letter_documents_signed_idx ON letter_documents (signed_at, letter_id);
