-- Full-text search over tickets (`tickets search`, `GET /api/tickets?q=`).
-- Keep in step with the other backend's 0010.
--
-- One row per ticket: a tsvector of its summary (weight A) and, as body
-- (weight B), its description, every comment and every attachment's name.
-- The 'simple' configuration (no stemming: the text is French or English,
-- and often both in one thread) on text folded to lower case without
-- accents by mailgate_fold, so that "gravite" finds "Gravité" without the
-- unaccent extension, which needs a superuser to install. Everything but
-- letters and digits becomes a space, so that "rapport-erreur.pdf" or an
-- address are words as on SQLite, not one token. Searches match
-- word prefixes, which covers most plural and conjugated forms.
-- Triggers rebuild a ticket's row whenever one of its parts changes, inside
-- the statement that changed it.
CREATE FUNCTION mailgate_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(replace(replace(replace(translate(lower($1),
        'àáâãäåāçćčèéêëēęìíîïīñńòóôõöøōùúûüūýÿžźż',
        'aaaaaaaccceeeeeeiiiiinnooooooouuuuuyyzzz'),
        'œ', 'oe'), 'æ', 'ae'), 'ß', 'ss'),
        '[^[:alnum:]]+', ' ', 'g')
$$;

CREATE TABLE ticket_search (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    document  tsvector NOT NULL
);
CREATE INDEX ticket_search_document ON ticket_search USING gin (document);

CREATE FUNCTION mailgate_index_ticket(ticket BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO ticket_search (ticket_id, document)
    SELECT t.id,
           setweight(to_tsvector('simple', mailgate_fold(t.summary)), 'A')
        || setweight(to_tsvector('simple', mailgate_fold(t.description
               || coalesce((SELECT ' ' || string_agg(c.body, ' ') FROM comments c WHERE c.ticket_id = t.id), '')
               || coalesce((SELECT ' ' || string_agg(a.filename, ' ') FROM attachments a WHERE a.ticket_id = t.id), ''))), 'B')
    FROM tickets t WHERE t.id = ticket
    ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document
$$;

CREATE FUNCTION mailgate_search_ticket_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mailgate_index_ticket(NEW.id);
    RETURN NULL;
END $$;

-- A comment or an attachment added, changed, moved or removed: the row of
-- the ticket it belongs (or belonged) to is rebuilt. A ticket being
-- deleted takes its row with it (ON DELETE CASCADE); rebuilding it then
-- would find no ticket and write nothing.
CREATE FUNCTION mailgate_search_part_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM mailgate_index_ticket(OLD.ticket_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.ticket_id <> OLD.ticket_id) THEN
        PERFORM mailgate_index_ticket(NEW.ticket_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ticket_search_ticket AFTER INSERT OR UPDATE OF summary, description ON tickets
    FOR EACH ROW EXECUTE FUNCTION mailgate_search_ticket_changed();
CREATE TRIGGER ticket_search_comment AFTER INSERT OR DELETE OR UPDATE OF body, ticket_id ON comments
    FOR EACH ROW EXECUTE FUNCTION mailgate_search_part_changed();
CREATE TRIGGER ticket_search_attachment AFTER INSERT OR DELETE OR UPDATE OF filename, ticket_id ON attachments
    FOR EACH ROW EXECUTE FUNCTION mailgate_search_part_changed();

-- The tickets filed before this version.
SELECT mailgate_index_ticket(id) FROM tickets;

-- The list's filter by product.
CREATE INDEX ticket_products_product ON ticket_products (product, ticket_id);
