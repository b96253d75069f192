-- The log starts empty: size 0, root SHA-256("") (RFC 9162 §2.1.1). Creating
-- the row here means sequencers only ever lock and update it, never race to insert it.
INSERT INTO log_state (id, size, root, updated_at)
VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea, 0)
ON CONFLICT (id) DO NOTHING;
-- The audit joins business rows to their entries by kind and subject.
CREATE INDEX log_entries_kind_subject ON log_entries (kind, subject_id);
