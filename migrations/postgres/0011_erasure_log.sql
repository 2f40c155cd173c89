-- Erasures of a customer's data (`mailgate customers forget`, GDPR article
-- 17). Keep in step with the other backend's 0011, which has the same
-- table but not the indexes below. A row says that an erasure happened, by
-- whom and what it removed, and nothing about the person: the pseudonym
-- left in their place, erased-<id>@invalid, is made from the row's id.
-- Counts are a JSON object (table or kind → rows), so that a table added
-- later needs no new column here.
CREATE TABLE erasure_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erased_at  TEXT NOT NULL,
    -- The OS user who ran the command, `cli` when unknown, or `api:NAME`.
    actor      TEXT NOT NULL,
    -- What became of the tickets they reported: `anonymise` or `delete`.
    mode       TEXT NOT NULL,
    counts     TEXT NOT NULL
);

-- The columns that refer to contents and to received messages, indexed:
-- deleting a row makes PostgreSQL look for rows referring to it, and
-- without these it read every row of each referring table once per row
-- deleted (an erasure of 1,000 messages among 21,000 took a minute in a
-- debug build, with them a second and a half). SQLite goes without them,
-- sparing filing the work: there an erasure leaves foreign keys
-- unenforced and checks them once before it commits (see
-- `Store::begin_erasure`).
CREATE INDEX outbox_raw ON outbox (raw_sha256);
CREATE INDEX attachments_content ON attachments (sha256);
CREATE INDEX inbound_raw ON inbound_messages (raw_sha256);
CREATE INDEX comments_inbound ON comments (inbound_message_id);
CREATE INDEX attachments_inbound ON attachments (inbound_message_id);
CREATE INDEX inbound_duplicates ON inbound_messages (duplicate_of) WHERE duplicate_of IS NOT NULL;
