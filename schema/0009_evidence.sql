-- Evidence of delivery after ETSI REM (EN 319 532): signed, timed records of submission
-- acceptance (at signing), content consignment (into the inbox) and content handover (when
-- the receiving clerk registers the letter), signed with the server's evidence key.
ALTER TABLE pki_material DROP CONSTRAINT pki_material_name_check;
ALTER TABLE pki_material ADD CONSTRAINT pki_material_name_check CHECK (name IN ('root', 'issuing', 'tsa', 'evidence'));

CREATE TABLE delivery_evidence (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    delivery_id  uuid NOT NULL REFERENCES deliveries (id),
    letter_id    uuid NOT NULL REFERENCES letters (id),
    kind         text NOT NULL CHECK (kind IN ('SubmissionAcceptance', 'ContentConsignment', 'ContentHandover')),
    record       bytea NOT NULL,
    signature    bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT delivery_evidence_kind_key UNIQUE (delivery_id, kind)
);
CREATE INDEX delivery_evidence_letter_idx ON delivery_evidence (letter_id);
