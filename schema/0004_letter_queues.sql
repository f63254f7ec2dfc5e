-- Who a letter waits for and until when, as columns, so the review box and the escalation
-- timer find letters by index instead of reading every workflow state.
ALTER TABLE letters
    ADD COLUMN waiting_position_id uuid REFERENCES positions (id),
    ADD COLUMN escalation_position_id uuid REFERENCES positions (id),
    ADD COLUMN step_deadline timestamptz,
    ADD COLUMN escalated boolean NOT NULL DEFAULT false;
CREATE INDEX letters_waiting_idx ON letters (waiting_position_id) WHERE waiting_position_id IS NOT NULL;
CREATE INDEX letters_escalation_idx ON letters (escalation_position_id) WHERE escalated;
CREATE INDEX letters_deadline_idx ON letters (step_deadline) WHERE NOT escalated AND step_deadline IS NOT NULL;
