-- The customer portal (/portal/). Keep in step with the other backend's 0009.
-- Sign-in links: only the SHA-256 of the token is kept; a link is used once
-- (used_at) and lapses at expires_at. Rows also count the links asked for
-- an address and from a client address within the hour.
CREATE TABLE portal_login_tokens (
    token_sha256 TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    client       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX portal_login_tokens_email ON portal_login_tokens (email, created_at);
CREATE INDEX portal_login_tokens_client ON portal_login_tokens (client, created_at);

-- Signed-in customers: the SHA-256 of the cookie's value, the CSRF token of
-- the session's forms, and the idle expiry pushed on at every use.
CREATE TABLE portal_sessions (
    id_sha256    TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX portal_sessions_email ON portal_sessions (email);

-- Terms of use accepted: by whom, which version, when, from where.
CREATE TABLE portal_consents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL,
    terms_version TEXT NOT NULL,
    accepted_at   TEXT NOT NULL,
    client        TEXT NOT NULL
);
CREATE INDEX portal_consents_email ON portal_consents (email, terms_version);

-- A customer's requests as a watcher (tickets_reporter covers the reporter).
CREATE INDEX IF NOT EXISTS ticket_watchers_email ON ticket_watchers (email);
