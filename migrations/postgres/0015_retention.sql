-- Retention (`[retention]`, `mailgate maintain`). Keep in step with the
-- other backend's 0015. A row whose content was removed keeps its foreign
-- key: it points at the empty content (inserted below, never collected)
-- and says when the content went.

-- Raw bytes of a received message removed (`retention.raw_messages`): the
-- row keeps its body hash and Message-ID, so a copy received again is
-- still recognised.
ALTER TABLE inbound_messages ADD COLUMN raw_removed_at TEXT;
-- The rendered body of an outgoing mail removed (`retention.outgoing_mail`).
ALTER TABLE outbox ADD COLUMN body_removed_at TEXT;
-- A closed ticket anonymised (`retention.closed_tickets`).
ALTER TABLE tickets ADD COLUMN anonymised_at TEXT;

-- A removed raw points at the empty content, which many rows share: the
-- first copy of a message is unique among the rows that still hold it.
DROP INDEX inbound_first_copy;
CREATE UNIQUE INDEX inbound_first_copy ON inbound_messages (raw_sha256)
    WHERE duplicate_of IS NULL AND raw_removed_at IS NULL;

-- The content every removed raw and body points at (SHA-256 of nothing).
INSERT INTO blobs (sha256, size, content, created_at)
VALUES ('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0, ''::bytea,
        '1970-01-01T00:00:00.000Z')
ON CONFLICT (sha256) DO NOTHING;

-- Each maintenance run: when, by which instance, and what it removed (a
-- JSON object, rule → rows), with the bytes of contents deleted. No
-- personal data. The daemon runs maintenance when the last finished run is
-- a day old.
CREATE TABLE maintenance_runs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance        TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    dry_run         BIGINT NOT NULL,
    counts          TEXT NOT NULL,
    bytes_reclaimed BIGINT NOT NULL
);
CREATE INDEX maintenance_runs_started ON maintenance_runs (started_at);

-- Retention looks rows up by age.
CREATE INDEX inbound_received ON inbound_messages (received_at);
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX blobs_created ON blobs (created_at);
