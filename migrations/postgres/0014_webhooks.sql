-- Webhook deliveries (`[[webhooks]]`). Keep in step with the other
-- backend's 0014. A row is written in the same transaction as the event it
-- reports, one per subscribed webhook, so that none is lost and none is
-- sent for a change that rolled back; the sender claims rows like the
-- outbox's (0006) and retries with the same back-off. `event_id` is the
-- receiver's key for idempotency: a retry carries the same one. `body` is
-- the event as JSON, the same for every webhook; the format a webhook wants
-- is made from it when sending.
CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event           TEXT NOT NULL,
    ticket_id       BIGINT REFERENCES tickets (id),
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    claim           TEXT,
    claimed_until   TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_ticket ON webhook_deliveries (ticket_id);
