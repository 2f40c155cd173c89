-- Keep in step with the other backend's 0018 (which also changes how its
-- search index deletes).
--
-- Every confirmation, reply and notification lists the ticket's thread
-- (its received messages by ticket), and nothing indexed received messages
-- by ticket: each mail read the whole table.
CREATE INDEX inbound_ticket ON inbound_messages (ticket_id);
