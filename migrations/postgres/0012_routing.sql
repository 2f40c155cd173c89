-- Routing and assignment. Keep in step with the other backend's 0012.
-- The queue a new ticket was routed to (`[[routes]]` name); NULL for the
-- default queue, which `tickets.team_address` serves. A ticket keeps its
-- queue when its fields change later.
ALTER TABLE tickets ADD COLUMN queue TEXT;
-- The team member the ticket is assigned to (an address), or NULL.
ALTER TABLE tickets ADD COLUMN assignee TEXT;
CREATE INDEX tickets_assignee ON tickets (assignee);
