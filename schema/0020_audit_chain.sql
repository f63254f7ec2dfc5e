-- The tamper-evident audit log: events are still inserted freely by every transaction; the
-- sealer (one at a time, under an advisory lock) gives each committed event its place in the
-- chain (chain_seq, in the order the sealer sees them committed) and its hash:
-- SHA-256 of the RFC 8785 form of the event, which includes the previous event's hash.
ALTER TABLE audit_events
    ADD COLUMN chain_seq  bigint,
    ADD COLUMN prev_hash  bytea CHECK (prev_hash IS NULL OR octet_length(prev_hash) = 32),
    ADD COLUMN hash       bytea CHECK (hash IS NULL OR octet_length(hash) = 32),
    ADD COLUMN sealed_at  timestamptz,
    ADD CONSTRAINT audit_events_sealed_together CHECK ((chain_seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL));
CREATE UNIQUE INDEX audit_events_chain_seq_key ON audit_events (chain_seq);
-- What the sealer reads: the events not sealed yet, oldest first.
CREATE INDEX audit_events_unsealed_idx ON audit_events (seq) WHERE chain_seq IS NULL;

-- Signed checkpoints of the chain head: the RFC 8785 statement {sequence, headHash, time}
-- and its detached CAdES-T signature by the server's evidence key.
CREATE TABLE audit_checkpoints (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain_seq   bigint NOT NULL UNIQUE,
    head_hash   bytea NOT NULL CHECK (octet_length(head_hash) = 32),
    statement   bytea NOT NULL,
    signature   bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Sealed events are never changed or removed: the database refuses it, whoever asks.
CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are never deleted' USING ERRCODE = '55000';
    END IF;
    IF OLD.chain_seq IS NOT NULL THEN
        RAISE EXCEPTION 'sealed audit events are never changed' USING ERRCODE = '55000';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_events_guard BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
