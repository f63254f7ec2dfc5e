-- Dispositions (disposisi): the receiving head's routing instructions down the hierarchy,
-- forwarded further down as a tree, each branch closed with a report.
CREATE TABLE disposition_instructions (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z_]{2,40}$'),
    title   text NOT NULL,
    active  boolean NOT NULL DEFAULT true
);
INSERT INTO disposition_instructions (code, title) VALUES
    ('tindak_lanjuti', 'Tindak lanjuti'),
    ('untuk_diketahui', 'Untuk diketahui'),
    ('koordinasikan', 'Koordinasikan/konfirmasikan'),
    ('tanggapan_saran', 'Tanggapan dan saran'),
    ('proses_lanjut', 'Proses lebih lanjut'),
    ('hadiri', 'Hadiri/wakili'),
    ('pelajari_balas', 'Pelajari dan buat konsep balasan'),
    ('arsipkan', 'Arsipkan');

CREATE TABLE dispositions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    inbox_entry_id    uuid NOT NULL REFERENCES inbox_entries (id),
    parent_id         uuid REFERENCES dispositions (id),
    from_position_id  uuid NOT NULL REFERENCES positions (id),
    from_user_id      uuid NOT NULL REFERENCES users (id),
    acting_capacity   text CHECK (acting_capacity IN ('plt', 'plh')),
    instructions      text[] NOT NULL CHECK (cardinality(instructions) > 0),
    note              text,
    due_date          date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispositions_entry_idx ON dispositions (inbox_entry_id);

CREATE TABLE disposition_recipients (
    disposition_id  uuid NOT NULL REFERENCES dispositions (id),
    position_id     uuid NOT NULL REFERENCES positions (id),
    state           text NOT NULL DEFAULT 'belum_dibaca' CHECK (state IN ('belum_dibaca', 'dibaca', 'ditindaklanjuti', 'selesai')),
    read_at         timestamptz,
    completed_at    timestamptz,
    report          text,
    PRIMARY KEY (disposition_id, position_id)
);
CREATE INDEX disposition_recipients_position_idx ON disposition_recipients (position_id, state);
