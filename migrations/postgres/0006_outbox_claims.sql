-- A sender claims the rows it is about to send, so that two senders (two
-- instances on one PostgreSQL, or a sender restarted over an unfinished
-- batch) never send the same row twice. A claim ends with the outcome of
-- the attempt, or lapses at claimed_until when its sender died.
ALTER TABLE outbox ADD COLUMN claim TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
CREATE INDEX outbox_claim ON outbox (claim);
