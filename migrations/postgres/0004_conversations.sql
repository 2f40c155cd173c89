-- Conversations. Keep in step with the other backend's 0004.
-- A comment is written by the customer (or anyone in the thread), by the
-- team (a public reply, or an internal note), or by mailgate itself.
ALTER TABLE comments ADD COLUMN author_role TEXT NOT NULL DEFAULT 'customer';

-- When the status last changed: the reopen window of a closed ticket counts
-- from there. NULL until the first change (then created_at applies).
ALTER TABLE tickets ADD COLUMN status_changed_at TEXT;
-- A follow-up to a ticket closed longer than the reopen window opens a new
-- ticket that continues the old one.
ALTER TABLE tickets ADD COLUMN follows_ticket_id BIGINT REFERENCES tickets (id);

-- The history of a ticket: status and field changes, reopenings, delivery
-- failures. Public events are shown on the tracking page.
CREATE TABLE ticket_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    kind       TEXT NOT NULL,
    field      TEXT,
    old_value  TEXT,
    new_value  TEXT,
    detail     TEXT,
    -- An address, `api:NAME`, `cli` or `mailgate`.
    actor      TEXT NOT NULL,
    public     BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id);

-- A bounce of one of our mails, recorded on the row it returns.
ALTER TABLE outbox ADD COLUMN bounced_at TEXT;
