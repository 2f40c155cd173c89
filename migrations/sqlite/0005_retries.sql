-- Quarantined messages filed again (`mailgate messages retry`). Keep in step
-- with the other backend's 0005.

-- When a rejected message was last filed again; its row then holds the new
-- outcome, reason and ticket (the same row: its raw hash stays its own).
ALTER TABLE inbound_messages ADD COLUMN retried_at TEXT;

-- Every retry with what the message was before and what it became: the
-- history its inbound row no longer shows.
CREATE TABLE inbound_retries (
    id                 INTEGER PRIMARY KEY,
    inbound_message_id BIGINT NOT NULL REFERENCES inbound_messages (id),
    old_outcome        TEXT NOT NULL,
    old_reason         TEXT,
    old_detail         TEXT,
    outcome            TEXT NOT NULL,
    reason             TEXT,
    ticket_id          BIGINT REFERENCES tickets (id),
    retried_at         TEXT NOT NULL
);
CREATE INDEX inbound_retries_message ON inbound_retries (inbound_message_id);
