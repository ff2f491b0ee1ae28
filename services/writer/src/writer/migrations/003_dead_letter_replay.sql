-- What a replay needs of a dead letter: when its record was first accepted (sent back as
-- the accepted-at header, so the replayed record keeps its version), and whether its
-- payload was cut (such a dead letter cannot be replayed).
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS accepted_at_ms Nullable(Int64);

ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS payload_truncated Bool DEFAULT false;
