-- The installation's internal CA and officials' signing keys. CA keys and signing keys are
-- encrypted PKCS#8 (scrypt + AES-256): the CA's with the PKI passphrase the server is
-- given, each official's with their own passphrase, which is never stored.

CREATE TABLE pki_material (
    name        text PRIMARY KEY CHECK (name IN ('root', 'issuing', 'tsa')),
    certificate text NOT NULL,
    private_key text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE signing_keys (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id),
    certificate_serial  text NOT NULL UNIQUE CHECK (certificate_serial ~ '^[0-9A-F]+$'),
    certificate         text NOT NULL,
    private_key         text NOT NULL,
    subject             text NOT NULL,
    not_after           timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signing_keys_user_idx ON signing_keys (user_id, created_at DESC);

CREATE TABLE certificate_revocations (
    certificate_serial  text PRIMARY KEY CHECK (certificate_serial ~ '^[0-9A-F]+$'),
    revoked_at          timestamptz NOT NULL DEFAULT now(),
    reason              integer NOT NULL CHECK (reason IN (0, 1, 3, 4, 5)),
    revoked_by          uuid REFERENCES users (id)
);

-- Published CRLs of the issuing CA; the newest is served.
CREATE TABLE crls (
    number       integer PRIMARY KEY,
    der          bytea NOT NULL,
    this_update  timestamptz NOT NULL,
    next_update  timestamptz NOT NULL
);
