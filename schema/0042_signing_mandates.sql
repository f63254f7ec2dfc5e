-- a.n. (atas nama): a standing mandate, set by an SK, by which a position signs for a
-- principal above it. A drafter may name a signer "a.n." only under a mandate valid when the
-- route is made and again when the letter is signed; the printed block names the principal.
-- Windows of one position never overlap (checked by the service under a lock on the
-- position's row), and a mandate is ended early by setting valid_until, never deleted.
CREATE TABLE signing_mandates (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    position_id            uuid NOT NULL REFERENCES positions (id),
    principal_position_id  uuid NOT NULL REFERENCES positions (id),
    reference              text NOT NULL CHECK (char_length(reference) BETWEEN 1 AND 200),
    valid_from             timestamptz NOT NULL,
    valid_until            timestamptz NOT NULL,
    created_by             uuid NOT NULL REFERENCES users (id),
    created_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT signing_mandates_window_order CHECK (valid_until > valid_from),
    CONSTRAINT signing_mandates_not_own_principal CHECK (principal_position_id <> position_id)
);
CREATE INDEX signing_mandates_position_idx ON signing_mandates (position_id, valid_until);
