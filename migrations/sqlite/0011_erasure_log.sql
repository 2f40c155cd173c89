-- Erasures of a customer's data (`mailgate customers forget`, GDPR article
-- 17). Keep in step with the other backend's 0011 (which also indexes the
-- columns referring to contents and messages). A row says that an
-- erasure happened, by whom and what it removed, and nothing about the
-- person: the pseudonym left in their place, erased-<id>@invalid, is made
-- from the row's id. Counts are a JSON object (table or kind → rows), so
-- that a table added later needs no new column here.
CREATE TABLE erasure_log (
    id         INTEGER PRIMARY KEY,
    erased_at  TEXT NOT NULL,
    -- The OS user who ran the command, `cli` when unknown, or `api:NAME`.
    actor      TEXT NOT NULL,
    -- What became of the tickets they reported: `anonymise` or `delete`.
    mode       TEXT NOT NULL,
    counts     TEXT NOT NULL
);
