-- Incoming letters: one inbox entry per (letter, receiving unit), written in the same
-- transaction that completes the delivery, so a recipient holds each letter exactly once
-- whatever crashes and retries happen.
CREATE TABLE inbox_entries (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    letter_id      uuid NOT NULL REFERENCES letters (id),
    unit_id        uuid NOT NULL REFERENCES units (id),
    delivery_id    uuid NOT NULL REFERENCES deliveries (id),
    role           text NOT NULL CHECK (role IN ('to', 'cc')),
    received_at    timestamptz NOT NULL DEFAULT now(),
    state          text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'registered')),
    agenda_number  integer,
    registered_at  timestamptz,
    registered_by  uuid REFERENCES users (id),
    CONSTRAINT inbox_entries_letter_unit_key UNIQUE (letter_id, unit_id)
);
CREATE INDEX inbox_entries_unit_idx ON inbox_entries (unit_id, received_at DESC);

ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('pending', 'leased', 'delivered', 'dead'));
CREATE INDEX deliveries_leases_idx ON deliveries (lease_expires_at) WHERE state = 'leased';
CREATE INDEX deliveries_dead_idx ON deliveries (created_at) WHERE state = 'dead';
