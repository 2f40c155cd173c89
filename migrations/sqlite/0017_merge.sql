-- Merged tickets (`tickets merge SOURCE --into TARGET`). Keep in step with
-- the other backend's 0017. (0013, 0015 and 0016 are taken by work that
-- lands separately.)
-- The ticket a merged one (status `merged`) was merged into: mail that
-- threads to it is filed on that one.
ALTER TABLE tickets ADD COLUMN merged_into BIGINT REFERENCES tickets (id);
