-- Rotating the time-stamping authority: a new TSA key and certificate from the issuing CA
-- replace the 'tsa' row of pki_material, and the old certificate moves here. Tokens it signed
-- are still checked against it and archives carry it; its private key is not kept, so nothing
-- can be time-stamped (back-dated) with it after it was retired.
CREATE TABLE retired_timestamp_authorities (
    certificate_serial text PRIMARY KEY,
    certificate        text NOT NULL,
    not_after          timestamptz NOT NULL,
    retired_at         timestamptz NOT NULL DEFAULT now()
);
