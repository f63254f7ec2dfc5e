-- The letter as a PAdES-signed PDF: the installation's template, each unit's kop, the
-- signer's rank, and every version of each letter's PDF (signing, then each renewal of the
-- document time-stamp).

ALTER TABLE users ADD COLUMN rank text CONSTRAINT users_rank_length CHECK (rank IS NULL OR char_length(rank) BETWEEN 1 AND 100);

ALTER TABLE units
    ADD COLUMN letterhead_address text NOT NULL DEFAULT '' CONSTRAINT units_letterhead_address_length CHECK (char_length(letterhead_address) <= 300),
    ADD COLUMN letterhead_contacts text NOT NULL DEFAULT '' CONSTRAINT units_letterhead_contacts_length CHECK (char_length(letterhead_contacts) <= 300);

-- One row: how this installation prints its letters.
CREATE TABLE letter_template (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    government     text NOT NULL DEFAULT '' CHECK (char_length(government) <= 200),
    place          text NOT NULL DEFAULT '' CHECK (char_length(place) <= 100),
    page_size      text NOT NULL DEFAULT 'A4' CHECK (page_size IN ('A4', 'F4')),
    font           text NOT NULL DEFAULT 'TeX Gyre Bonum' CHECK (font IN ('TeX Gyre Bonum', 'Liberation Sans')),
    font_size      double precision NOT NULL DEFAULT 11.5 CHECK (font_size BETWEEN 9 AND 14),
    margin_top     double precision NOT NULL DEFAULT 20 CHECK (margin_top BETWEEN 10 AND 50),
    margin_right   double precision NOT NULL DEFAULT 20 CHECK (margin_right BETWEEN 10 AND 50),
    margin_bottom  double precision NOT NULL DEFAULT 20 CHECK (margin_bottom BETWEEN 10 AND 50),
    margin_left    double precision NOT NULL DEFAULT 25 CHECK (margin_left BETWEEN 10 AND 50),
    logo_png       bytea CHECK (logo_png IS NULL OR octet_length(logo_png) <= 1048576),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO letter_template DEFAULT VALUES;

CREATE TABLE letter_pdfs (
    letter_id             uuid NOT NULL REFERENCES letters (id),
    -- 1 at signing; each renewal of the document time-stamp appends revisions and adds a row.
    version               integer NOT NULL CHECK (version >= 1),
    pdf                   bytea NOT NULL,
    sha256                text NOT NULL,
    -- When the newest document time-stamp's TSA certificate expires: renew before then.
    timestamp_valid_until timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (letter_id, version)
);
-- The public verification page finds an uploaded PDF by its hash.
CREATE INDEX letter_pdfs_sha256_idx ON letter_pdfs (sha256);
CREATE INDEX letter_pdfs_renewal_idx ON letter_pdfs (timestamp_valid_until);
