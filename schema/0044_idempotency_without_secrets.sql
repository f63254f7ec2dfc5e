-- The idempotency store no longer keeps what it must not: request hashes are HMAC-SHA-256
-- under a key derived from the PKI passphrase (bodies hold passwords and passphrases, and a
-- plain SHA-256 of one can be tested against guesses by whoever reads the table), and a
-- response that holds a secret (a new API token) is not stored: a retry learns that the
-- first request succeeded and nothing more.
ALTER TABLE idempotency_keys ADD COLUMN response_withheld boolean NOT NULL DEFAULT false;
-- Hashes written before this migration cannot match a keyed one; the store treats such a
-- key as used by another request (422) until it expires within a day.
