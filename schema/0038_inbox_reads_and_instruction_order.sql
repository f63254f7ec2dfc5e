-- Read state of incoming letters: when each person first opened an entry of their unit's
-- inbox (SRIKANDI's "naskah masuk belum dibaca"). One row per entry and reader.
CREATE TABLE inbox_entry_reads (
    inbox_entry_id  uuid NOT NULL REFERENCES inbox_entries (id),
    user_id         uuid NOT NULL REFERENCES users (id),
    read_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (inbox_entry_id, user_id)
);
CREATE INDEX inbox_entry_reads_user_idx ON inbox_entry_reads (user_id);

-- The managed list of disposition instructions is offered in a fixed order (the order of
-- SRIKANDI's "pesan disposisi"); new codes go after these unless given a place.
ALTER TABLE disposition_instructions ADD COLUMN sort_order integer NOT NULL DEFAULT 100;
UPDATE disposition_instructions SET sort_order = CASE code
    WHEN 'tindak_lanjuti' THEN 1 WHEN 'untuk_diketahui' THEN 2 WHEN 'koordinasikan' THEN 3 WHEN 'tanggapan_saran' THEN 4
    WHEN 'proses_lanjut' THEN 5 WHEN 'hadiri' THEN 6 WHEN 'pelajari_balas' THEN 7 WHEN 'arsipkan' THEN 8 ELSE 100 END;
