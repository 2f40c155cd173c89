-- Full-text search over tickets (`tickets search`, `GET /api/tickets?q=`).
-- Keep in step with the other backend's 0010.
--
-- One row per ticket, rowid = tickets.id: its summary, and as body its
-- description, every comment and every attachment's name. unicode61 with
-- remove_diacritics folds case and accents, so "gravite" finds "Gravité".
-- Triggers rebuild a ticket's row whenever one of its parts changes, inside
-- the statement that changed it: the index is never behind a committed
-- ticket, whoever wrote it.
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    summary,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Deleting a row removes its entries from the index instead of adding
-- markers beside them, so that erased text does not stay in the file.
INSERT INTO ticket_search (ticket_search, rank) VALUES ('secure-delete', 1);

-- What is indexed of a ticket: its summary, and its description, comments
-- and attachment names as one body. Every trigger below rebuilds a row
-- from here.
CREATE VIEW ticket_search_text (id, summary, body) AS
SELECT t.id, t.summary, t.description
    || coalesce((SELECT ' ' || group_concat(c.body, ' ') FROM comments c WHERE c.ticket_id = t.id), '')
    || coalesce((SELECT ' ' || group_concat(a.filename, ' ') FROM attachments a WHERE a.ticket_id = t.id), '')
FROM tickets t;

CREATE TRIGGER ticket_search_ticket_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, summary, body)
    VALUES (new.id, new.summary, new.description);
END;

CREATE TRIGGER ticket_search_ticket_update AFTER UPDATE OF summary, description ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id;
    INSERT INTO ticket_search (rowid, summary, body)
    SELECT id, summary, body FROM ticket_search_text WHERE id = new.id;
END;

CREATE TRIGGER ticket_search_ticket_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id;
END;

-- A comment or an attachment added, changed, moved or removed: the row of
-- the ticket it belongs (or belonged) to is rebuilt.
CREATE TRIGGER ticket_search_comment_insert AFTER INSERT ON comments BEGIN
    DELETE FROM ticket_search WHERE rowid = new.ticket_id;
    INSERT INTO ticket_search (rowid, summary, body)
    SELECT id, summary, body FROM ticket_search_text WHERE id = new.ticket_id;
END;

CREATE TRIGGER ticket_search_comment_update AFTER UPDATE OF body, ticket_id ON comments BEGIN
    DELETE FROM ticket_search WHERE rowid IN (old.ticket_id, new.ticket_id);
    INSERT INTO ticket_search (rowid, summary, body)
    SELECT id, summary, body FROM ticket_search_text WHERE id IN (old.ticket_id, new.ticket_id);
END;

CREATE TRIGGER ticket_search_comment_delete AFTER DELETE ON comments BEGIN
    DELETE FROM ticket_search WHERE rowid = old.ticket_id;
    INSERT INTO ticket_search (rowid, summary, body)
    SELECT id, summary, body FROM ticket_search_text WHERE id = old.ticket_id;
END;

CREATE TRIGGER ticket_search_attachment_insert AFTER INSERT ON attachments BEGIN
    DELETE FROM ticket_search WHERE rowid = new.ticket_id;
    INSERT INTO ticket_search (rowid, summary, body)
    SELECT id, summary, body FROM ticket_search_text WHERE id = new.ticket_id;
END;

CREATE TRIGGER ticket_search_attachment_update AFTER UPDATE OF filename, ticket_id ON attachments BEGIN
    DELETE FROM ticket_search WHERE rowid IN (old.ticket_id, new.ticket_id);
    INSERT INTO ticket_search (rowid, summary, body)
    SELECT id, summary, body FROM ticket_search_text WHERE id IN (old.ticket_id, new.ticket_id);
END;

CREATE TRIGGER ticket_search_attachment_delete AFTER DELETE ON attachments BEGIN
    DELETE FROM ticket_search WHERE rowid = old.ticket_id;
    INSERT INTO ticket_search (rowid, summary, body)
    SELECT id, summary, body FROM ticket_search_text WHERE id = old.ticket_id;
END;

-- The tickets filed before this version.
INSERT INTO ticket_search (rowid, summary, body)
SELECT id, summary, body FROM ticket_search_text;

-- The list's filter by product.
CREATE INDEX ticket_products_product ON ticket_products (product, ticket_id);
