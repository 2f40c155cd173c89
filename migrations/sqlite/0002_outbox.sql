-- Outgoing mail, written in the same transaction as the ticket it is about,
-- so that a crash can neither lose an answer nor create one without its
-- ticket. The rendered message (with its Message-ID) is kept in blobs, so a
-- retry sends exactly the same bytes. Status: pending, sent, failed, or
-- suppressed (kept, never sent: loop protection).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    ticket_id       BIGINT REFERENCES tickets (id),
    kind            TEXT NOT NULL,
    -- 1 for automatic answers (RFC 3834), counted by the per-sender limit.
    automatic       BIGINT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    sender          TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    raw_sha256      TEXT NOT NULL REFERENCES blobs (sha256),
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox (ticket_id);
CREATE INDEX outbox_recipient ON outbox (recipients, created_at);
