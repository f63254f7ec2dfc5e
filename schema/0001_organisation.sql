-- Organisation and identity: units, positions (jabatan), user accounts, delegations
-- (Plt./Plh.), sessions and API tokens, failed logins, and the audit events every later
-- capability appends to.

CREATE TABLE units (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('pemda', 'opd', 'bagian', 'bidang', 'subbagian', 'seksi', 'kecamatan', 'kelurahan', 'upt')),
    parent_id   uuid REFERENCES units (id),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT units_code_key UNIQUE (code),
    CONSTRAINT units_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$'),
    CONSTRAINT units_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT units_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX units_parent_idx ON units (parent_id);

CREATE TABLE positions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id      uuid NOT NULL REFERENCES units (id),
    title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    superior_id  uuid REFERENCES positions (id),
    -- The head of its unit (Kepala Dinas, Camat…): receives the unit's incoming letters.
    is_head      boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT positions_not_own_superior CHECK (superior_id IS NULL OR superior_id <> id)
);
CREATE INDEX positions_unit_idx ON positions (unit_id);
CREATE UNIQUE INDEX positions_one_head_per_unit ON positions (unit_id) WHERE is_head;

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL,
    full_name      text NOT NULL CHECK (char_length(full_name) BETWEEN 1 AND 200),
    nip            text,
    password_hash  text NOT NULL,
    roles          text[] NOT NULL CHECK (roles <@ ARRAY['admin', 'clerk', 'official', 'staff', 'auditor'] AND cardinality(roles) > 0),
    unit_id        uuid NOT NULL REFERENCES units (id),
    -- The position held definitively; UNIQUE: a position has at most one definitive holder.
    position_id    uuid REFERENCES positions (id),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_nip_key UNIQUE (nip),
    CONSTRAINT users_position_key UNIQUE (position_id),
    CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._\-]{1,63}$'),
    CONSTRAINT users_nip_format CHECK (nip IS NULL OR nip ~ '^[0-9]{18}$')
);
CREATE INDEX users_unit_idx ON users (unit_id);

-- Plt. / Plh.: a user holds a position's rights for [valid_from, valid_until). Windows of one
-- position never overlap (checked by the service under a lock on the position row).
CREATE TABLE delegations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    position_id  uuid NOT NULL REFERENCES positions (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    capacity     text NOT NULL CHECK (capacity IN ('plt', 'plh')),
    valid_from   timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL,
    created_by   uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT delegations_window_order CHECK (valid_until > valid_from)
);
CREATE INDEX delegations_position_idx ON delegations (position_id, valid_from);
CREATE INDEX delegations_user_idx ON delegations (user_id, valid_until);

-- Bearer tokens (login sessions and named API tokens), stored only as SHA-256.
CREATE TABLE access_tokens (
    token_hash    bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    id            uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    user_id       uuid NOT NULL REFERENCES users (id),
    kind          text NOT NULL CHECK (kind IN ('session', 'api')),
    name          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CONSTRAINT access_tokens_api_named CHECK (kind = 'session' OR name IS NOT NULL)
);
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);

-- Failed logins of the last minutes, for rate limiting across every replica.
CREATE TABLE login_failures (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL,
    client_address  text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username_idx ON login_failures (username, at);
CREATE INDEX login_failures_address_idx ON login_failures (client_address, at);

-- Every state change and every login, in order. The hash chain and signed checkpoints come
-- with the archive work; `seq` gives the order they will chain in.
CREATE TABLE audit_events (
    seq                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    occurred_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id       uuid REFERENCES users (id),
    -- The position the actor acted in, and how (NULL: their own position; plt/plh).
    acting_position_id  uuid REFERENCES positions (id),
    acting_capacity     text CHECK (acting_capacity IN ('plt', 'plh')),
    action              text NOT NULL,
    object_type         text NOT NULL,
    object_id           text,
    client_address      text,
    request_id          text,
    details             jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);
