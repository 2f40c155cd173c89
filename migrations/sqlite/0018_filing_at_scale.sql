-- Two costs of filing that grew with the database. Keep the index in step
-- with the other backend's 0018.
--
-- 1. Every confirmation, reply and notification lists the ticket's thread
-- (its received messages by ticket), and nothing indexed received
-- messages by ticket: each mail read the whole table.
CREATE INDEX inbound_ticket ON inbound_messages (ticket_id);

-- 2. SQLite only (PostgreSQL's index is a tsvector column, rewritten in
-- place).
-- The search index stops removing a deleted row's entries from every
-- segment at once ('secure-delete', set by 0010): it marks them deleted,
-- and segments merged later drop them. Each comment rebuilds its ticket's
-- row, so that removal ran for every comment filed, and its cost grew with
-- the index: profiled on a 100,000-message ingest, a quarter of the
-- process's time was FTS5 looking for old entries. Where a deletion must
-- leave nothing behind (an erasure, retention's closed tickets), the index
-- is merged whole afterwards ('optimize', see store/erasure/wipe.rs), which
-- drops every entry marked deleted.
INSERT INTO ticket_search (ticket_search, rank) VALUES ('secure-delete', 0);
