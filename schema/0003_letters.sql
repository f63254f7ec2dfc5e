-- Outgoing letters: classification codes, numbering, workflow definitions, letters with
-- their route, recipients, attachments, the signed documents, and the outbox of deliveries.

-- KKA (Permendagri 83/2022); the admin manages the table, the top-level codes are seeded.
CREATE TABLE kka_codes (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{3}(\.[0-9]{1,3}){0,5}$'),
    title       text NOT NULL,
    active      boolean NOT NULL DEFAULT true
);
INSERT INTO kka_codes (code, title) VALUES
    ('000', 'Umum'),
    ('000.1', 'Ketatausahaan dan Kerumahtanggaan'),
    ('100', 'Pemerintahan'),
    ('200', 'Politik'),
    ('300', 'Keamanan dan Ketertiban'),
    ('400', 'Kesejahteraan Rakyat'),
    ('500', 'Perekonomian'),
    ('600', 'Pekerjaan Umum dan Ketenagaan'),
    ('700', 'Pengawasan'),
    ('800', 'Kepegawaian'),
    ('900', 'Keuangan');

-- A unit's own number template (NULL: the default {kka}/{seq}/{unitCode}/{year}).
ALTER TABLE units ADD COLUMN number_template text;

-- Gapless sequences per issuing unit and calendar year, taken inside the signing
-- transaction: the row lock orders concurrent signings, a rollback returns the number.
CREATE TABLE letter_number_sequences (
    unit_id     uuid NOT NULL REFERENCES units (id),
    year        integer NOT NULL,
    last_value  integer NOT NULL,
    PRIMARY KEY (unit_id, year)
);

-- Versioned workflow definitions (JSON), chosen by letter type and unit.
CREATE TABLE workflow_definitions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    version      integer NOT NULL,
    letter_type  text,
    unit_id      uuid REFERENCES units (id),
    definition   jsonb NOT NULL,
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_definitions_version_key UNIQUE (name, version)
);

CREATE TABLE letters (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id              uuid NOT NULL REFERENCES units (id),
    drafter_user_id      uuid NOT NULL REFERENCES users (id),
    drafter_position_id  uuid REFERENCES positions (id),
    type                 text NOT NULL,
    subject              text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 500),
    classification_code  text NOT NULL REFERENCES kka_codes (code),
    security_level       text NOT NULL CHECK (security_level IN ('biasa', 'terbatas', 'rahasia', 'sangat_rahasia')),
    urgency              text NOT NULL CHECK (urgency IN ('biasa', 'segera', 'sangat_segera')),
    body                 text NOT NULL,
    status               text NOT NULL,
    version              integer NOT NULL DEFAULT 1,
    workflow_id          uuid REFERENCES workflow_definitions (id),
    -- The workflow state (route, current step, escalation), as the domain's state machine
    -- keeps it.
    workflow_state       jsonb NOT NULL,
    number               text,
    number_year          integer,
    number_sequence      integer,
    signed_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT letters_number_key UNIQUE (unit_id, number_year, number_sequence)
);
CREATE INDEX letters_unit_idx ON letters (unit_id, created_at DESC);
CREATE INDEX letters_drafter_idx ON letters (drafter_user_id, created_at DESC);

CREATE TABLE letter_recipients (
    letter_id  uuid NOT NULL REFERENCES letters (id) ON DELETE CASCADE,
    unit_id    uuid NOT NULL REFERENCES units (id),
    role       text NOT NULL CHECK (role IN ('to', 'cc')),
    position   integer NOT NULL,
    PRIMARY KEY (letter_id, unit_id)
);

CREATE TABLE attachments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    letter_id   uuid NOT NULL REFERENCES letters (id) ON DELETE CASCADE,
    filename    text NOT NULL,
    media_type  text NOT NULL,
    size        bigint NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_letter_idx ON attachments (letter_id);

-- The signed canonical document and its detached signature: stored once, never rebuilt.
CREATE TABLE letter_documents (
    letter_id            uuid PRIMARY KEY REFERENCES letters (id),
    document             bytea NOT NULL,
    signature            bytea NOT NULL,
    certificate_serial   text NOT NULL,
    signer_user_id       uuid NOT NULL REFERENCES users (id),
    signer_position_id   uuid NOT NULL REFERENCES positions (id),
    signer_capacity      text NOT NULL,
    signed_at            timestamptz NOT NULL
);

-- The outbox: one delivery per recipient, written with the signature.
CREATE TABLE deliveries (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    letter_id          uuid NOT NULL REFERENCES letters (id),
    recipient_unit_id  uuid NOT NULL REFERENCES units (id),
    role               text NOT NULL CHECK (role IN ('to', 'cc')),
    state              text NOT NULL DEFAULT 'pending',
    attempts           integer NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    lease_owner        text,
    lease_expires_at   timestamptz,
    last_error         text,
    delivered_at       timestamptz,
    accepted_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deliveries_letter_recipient_key UNIQUE (letter_id, recipient_unit_id)
);
CREATE INDEX deliveries_ready_idx ON deliveries (next_attempt_at) WHERE state = 'pending';
