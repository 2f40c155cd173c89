-- When mailgate first watched each IMAP mailbox, for `[[mailboxes]]
-- initial`. Keep in step with the other backend's 0016. Written once, by
-- the first instance to SELECT the folder: `first_uid` is the UIDNEXT that
-- SELECT answered, so the messages under it (with that UIDVALIDITY) are
-- the ones that were there before. A mailbox whose UIDVALIDITY changes
-- keeps its start with `first_uid` 0: nothing in it is initial any more
-- (re-filed copies are recognised as duplicates; skipping mail would lose
-- it).
CREATE TABLE mailbox_starts (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity BIGINT,
    first_uid   BIGINT NOT NULL,
    started_at  TEXT NOT NULL
);
-- Mailboxes filed from before this migration are started already, under
-- whatever UIDVALIDITY (NULL): upgrading never leaves mail aside.
INSERT INTO mailbox_starts (mailbox, uidvalidity, first_uid, started_at)
SELECT mailbox, NULL, 0, MIN(received_at) FROM inbound_messages
WHERE source = 'imap' AND mailbox IS NOT NULL
GROUP BY mailbox;
