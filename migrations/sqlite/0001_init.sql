-- mailgate schema, SQLite. Keep in step with migrations/postgres/0001_init.sql:
-- same tables and columns; only identity columns and the ticket-number
-- sequence differ. Times are RFC 3339 UTC text with milliseconds, which sorts
-- as time.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('ticket_number', 0);

-- File contents, stored once per SHA-256: attachments and raw messages.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE customers (
    id           INTEGER PRIMARY KEY,
    email        TEXT NOT NULL UNIQUE,
    name         TEXT,
    organisation TEXT,
    language     TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    number         BIGINT NOT NULL UNIQUE,
    tracking_token TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    summary        TEXT NOT NULL,
    description    TEXT NOT NULL,
    severity       TEXT NOT NULL,
    request_type   TEXT NOT NULL,
    customer_id    BIGINT NOT NULL REFERENCES customers (id),
    reporter_email TEXT NOT NULL,
    reporter_name  TEXT,
    reply_to       TEXT,
    language       TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_reporter ON tickets (reporter_email);

CREATE TABLE ticket_products (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    position  BIGINT NOT NULL,
    product   TEXT NOT NULL,
    PRIMARY KEY (ticket_id, product)
);

CREATE TABLE ticket_watchers (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    email     TEXT NOT NULL,
    name      TEXT,
    PRIMARY KEY (ticket_id, email)
);

-- Values a customer wrote that matched no vocabulary entry.
CREATE TABLE ticket_unrecognized (
    id        INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    field     TEXT NOT NULL,
    value     TEXT NOT NULL,
    source    TEXT NOT NULL
);
CREATE INDEX ticket_unrecognized_ticket ON ticket_unrecognized (ticket_id);

-- Every message received, whatever became of it, with its raw bytes (in
-- blobs). An IMAP message is known by (mailbox, uidvalidity, uid); a message
-- arriving twice by its raw hash, or its Message-ID and body hash.
CREATE TABLE inbound_messages (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    mailbox      TEXT,
    uidvalidity  BIGINT,
    uid          BIGINT,
    message_id   TEXT,
    raw_sha256   TEXT NOT NULL REFERENCES blobs (sha256),
    body_sha256  TEXT NOT NULL,
    size         BIGINT NOT NULL,
    outcome      TEXT NOT NULL,
    reason       TEXT,
    detail       TEXT,
    ticket_id    BIGINT REFERENCES tickets (id),
    duplicate_of BIGINT REFERENCES inbound_messages (id),
    received_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX inbound_imap_uid ON inbound_messages (mailbox, uidvalidity, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX inbound_first_copy ON inbound_messages (raw_sha256) WHERE duplicate_of IS NULL;
CREATE INDEX inbound_message_id ON inbound_messages (message_id);
CREATE INDEX inbound_outcome ON inbound_messages (outcome);

CREATE TABLE comments (
    id                 INTEGER PRIMARY KEY,
    ticket_id          BIGINT NOT NULL REFERENCES tickets (id),
    inbound_message_id BIGINT REFERENCES inbound_messages (id),
    author_email       TEXT NOT NULL,
    author_name        TEXT,
    body               TEXT NOT NULL,
    visibility         TEXT NOT NULL,
    created_at         TEXT NOT NULL
);
CREATE INDEX comments_ticket ON comments (ticket_id);

CREATE TABLE attachments (
    id                 INTEGER PRIMARY KEY,
    ticket_id          BIGINT NOT NULL REFERENCES tickets (id),
    comment_id         BIGINT REFERENCES comments (id),
    inbound_message_id BIGINT REFERENCES inbound_messages (id),
    filename           TEXT NOT NULL,
    content_type       TEXT NOT NULL,
    size               BIGINT NOT NULL,
    sha256             TEXT NOT NULL REFERENCES blobs (sha256),
    content_id         TEXT,
    inline             BIGINT NOT NULL,
    created_at         TEXT NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);
