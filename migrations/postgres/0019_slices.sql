-- Each byte stored once. Keep in step with the other backend's 0019.
--
-- An attachment is already in the raw message that carried it, encoded
-- (base64, mostly). A content found there byte for byte is now kept as its
-- place: the row keeps its size and an empty content, and names the
-- content that holds it (`source_sha256`, always a raw message), where
-- (`source_offset`, `source_length`, in bytes of that content) and how the
-- bytes there are written (`source_encoding`: 'identity' or 'base64', see
-- src/model/slice.rs). It is decoded when read.
--
-- A raw message that such rows point at is deleted only after they are
-- given their own bytes again (store/slices.rs), which the reference below
-- makes sure of. Rows written before stay as they are: both forms are read.
ALTER TABLE blobs ADD COLUMN source_sha256 TEXT REFERENCES blobs (sha256);
ALTER TABLE blobs ADD COLUMN source_offset BIGINT;
ALTER TABLE blobs ADD COLUMN source_length BIGINT;
ALTER TABLE blobs ADD COLUMN source_encoding TEXT;
CREATE INDEX blobs_source ON blobs (source_sha256) WHERE source_sha256 IS NOT NULL;
