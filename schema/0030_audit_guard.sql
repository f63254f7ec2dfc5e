-- Closes the gaps the first guard left: an event's content can never change, sealed or not
-- (only the sealer's chain columns are filled in, once); an insert cannot preset its place in
-- the chain (a forged chain_seq would stop the sealer at a unique violation for good); and
-- TRUNCATE, which row triggers do not see, is refused too.
CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are never deleted' USING ERRCODE = '55000';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.chain_seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL OR NEW.sealed_at IS NOT NULL THEN
            RAISE EXCEPTION 'audit events are sealed by the sealer, not by their writer' USING ERRCODE = '55000';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.chain_seq IS NOT NULL THEN
        RAISE EXCEPTION 'sealed audit events are never changed' USING ERRCODE = '55000';
    END IF;
    IF (NEW.seq, NEW.id, NEW.occurred_at, NEW.actor_user_id, NEW.acting_position_id, NEW.acting_capacity, NEW.action,
        NEW.object_type, NEW.object_id, NEW.client_address, NEW.request_id, NEW.details)
       IS DISTINCT FROM
       (OLD.seq, OLD.id, OLD.occurred_at, OLD.actor_user_id, OLD.acting_position_id, OLD.acting_capacity, OLD.action,
        OLD.object_type, OLD.object_id, OLD.client_address, OLD.request_id, OLD.details) THEN
        RAISE EXCEPTION 'audit events are never changed' USING ERRCODE = '55000';
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER audit_events_guard ON audit_events;
CREATE TRIGGER audit_events_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();

CREATE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are never deleted' USING ERRCODE = '55000';
END;
$$;
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();
