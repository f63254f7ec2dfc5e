-- JRA (jadwal retensi arsip): each KKA code may carry its retention: years active, years
-- inactive, and the final disposition. A code without its own schedule takes its nearest
-- ancestor's. Records are never deleted by esurat: a letter past both periods is listed as
-- due for its final disposition, which the unit kearsipan carries out with approval.
ALTER TABLE kka_codes
    ADD COLUMN active_years       integer CHECK (active_years BETWEEN 0 AND 100),
    ADD COLUMN inactive_years     integer CHECK (inactive_years BETWEEN 0 AND 100),
    ADD COLUMN final_disposition  text CHECK (final_disposition IN ('musnah', 'permanen', 'dinilai_kembali')),
    ADD CONSTRAINT kka_codes_retention_complete CHECK (
        (active_years IS NULL) = (inactive_years IS NULL) AND (active_years IS NULL) = (final_disposition IS NULL));

-- Starting values for the seeded codes, after the common regional JRA; the unit kearsipan
-- sets its own (Perkada) through the API.
UPDATE kka_codes SET active_years = v.a, inactive_years = v.i, final_disposition = v.d
FROM (VALUES
    ('000', 2, 3, 'musnah'),
    ('000.1', 2, 1, 'musnah'),
    ('100', 3, 7, 'permanen'),
    ('200', 3, 5, 'dinilai_kembali'),
    ('300', 3, 5, 'dinilai_kembali'),
    ('400', 3, 5, 'dinilai_kembali'),
    ('500', 3, 7, 'dinilai_kembali'),
    ('600', 3, 7, 'dinilai_kembali'),
    ('700', 5, 5, 'permanen'),
    ('800', 2, 3, 'dinilai_kembali'),
    ('900', 2, 8, 'musnah')
) AS v(code, a, i, d)
WHERE kka_codes.code = v.code;
