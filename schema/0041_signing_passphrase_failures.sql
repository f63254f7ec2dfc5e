-- Wrong signing passphrases of the last minutes, per official, for rate limiting across
-- every replica (the key is scrypt-encrypted, but a stolen session must not guess its
-- passphrase at hashing speed). A guess reads the count and, when wrong, commits its row
-- under a lock on the official, so parallel guesses cannot pass the count; rows older than
-- the window mean nothing and are swept with the login failures.
CREATE TABLE signing_passphrase_failures (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signing_passphrase_failures_user_idx ON signing_passphrase_failures (user_id, at);
