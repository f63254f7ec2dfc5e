-- Overdue disposition branches escalate once, through the timer service.
ALTER TABLE disposition_recipients ADD COLUMN escalated_at timestamptz;
CREATE INDEX disposition_recipients_open_idx ON disposition_recipients (disposition_id) WHERE state <> 'selesai' AND escalated_at IS NULL;
