-- Contents larger than one chunk are kept in chunks rather than in one
-- value: the database copies a bound value (twice, for SQLite), so one
-- 25 MB attachment written in one piece cost 75 MB of memory at once. The
-- blobs row keeps its size and an empty content; the chunks, in order, make
-- the content.
CREATE TABLE blob_chunks (
    sha256  TEXT NOT NULL REFERENCES blobs (sha256),
    seq     BIGINT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
);
