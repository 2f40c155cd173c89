-- Customers registered by the team (`mailgate customers add/import`), as
-- opposed to addresses merely seen on tickets. Under senders.policy =
-- "registered" only these (and allowed domains) may open tickets.
ALTER TABLE customers ADD COLUMN registered BIGINT NOT NULL DEFAULT 0;
