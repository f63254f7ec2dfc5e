-- Agenda numbers: gapless per receiving unit and year, taken when the clerk registers.
CREATE TABLE agenda_number_sequences (
    unit_id     uuid NOT NULL REFERENCES units (id),
    year        integer NOT NULL,
    last_value  integer NOT NULL,
    PRIMARY KEY (unit_id, year)
);
ALTER TABLE inbox_entries ADD CONSTRAINT inbox_entries_agenda_key UNIQUE (unit_id, agenda_number);
-- Inbox search: subject and number with the Indonesian text-search configuration.
CREATE INDEX letters_search_idx ON letters USING gin (to_tsvector('indonesian', subject || ' ' || coalesce(number, '')));
