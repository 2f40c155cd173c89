-- Contents are stored out of line without compression. PostgreSQL
-- compresses large values with pglz by default, on the committing
-- session's critical path, at a rate well below the disk's; most
-- attachments (images, archives, PDF) are compressed already.
ALTER TABLE blobs ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE blob_chunks ALTER COLUMN content SET STORAGE EXTERNAL;
