//! Watchers: the people copied on a ticket's mail besides its reporter.
//! A follow-up's To and Cc join them (minus our addresses, the team's and
//! robots'), and the team adds or removes them by hand; every change is
//! recorded in the history (`ticket_events`, kind `watcher`).

use crate::intake::Person;
use crate::intake::thread::is_team_address;
use crate::model::EmailAddress;
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError};

use super::changes::NewEvent;

/// The history entry's kind and field for a change of watchers.
const KIND: &str = "watcher";
const FIELD: &str = "watchers";

/// Why an address copied on a follow-up does not become a watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skipped {
    /// A support agent (`tickets.team_addresses`): they hear of the ticket
    /// as the team, not as a customer.
    Team,
    /// A queue's team address (`tickets.team_address`, `[[routes]]`): mail
    /// about the ticket already goes there as team mail.
    Queue,
    /// A no-reply or daemon address (`senders.no_reply_patterns`): nobody
    /// reads what is sent there.
    Robot,
}

/// What decides who, copied on a follow-up, may become a watcher. Our own
/// addresses (`intake.own_addresses`) are not here: intake never lists them
/// among a message's watchers.
struct Candidates<'a> {
    team_addresses: &'a [String],
    /// Every queue's team address, lower case, without `+tag`.
    queue_addresses: Vec<String>,
    /// Fragments of local parts, lower case.
    robot_patterns: &'a [String],
}

/// An address lower case and without its `+tag` (RFC 5233), for comparing
/// with configured addresses.
fn base_address(email: &str) -> String {
    let email = email.trim().to_lowercase();
    match email.split_once('@') {
        Some((local, domain)) => match local.split_once('+') {
            Some((base, _)) if !base.is_empty() => format!("{base}@{domain}"),
            _ => email,
        },
        None => email,
    }
}

impl Candidates<'_> {
    /// Why `email` (lower case) is no watcher, if it is not.
    fn skipped(&self, email: &str) -> Option<Skipped> {
        let base = base_address(email);
        if is_team_address(email, self.team_addresses)
            || is_team_address(&base, self.team_addresses)
        {
            return Some(Skipped::Team);
        }
        if self.queue_addresses.contains(&base) {
            return Some(Skipped::Queue);
        }
        if crate::model::no_reply_match(&base, self.robot_patterns).is_some() {
            return Some(Skipped::Robot);
        }
        None
    }
}

/// What a change of watchers by hand did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherChange {
    pub key: String,
    /// The address, checked and lower case.
    pub email: String,
    /// Whether anything changed: `false` when adding a watcher already
    /// there, or removing one who was not.
    pub changed: bool,
}

impl Store {
    fn candidates(&self) -> Candidates<'_> {
        let queue_addresses = (self.routes.team_addresses())
            .chain(self.team_address.as_deref())
            .map(base_address)
            .collect();
        Candidates {
            team_addresses: &self.conversations.team_addresses,
            queue_addresses,
            robot_patterns: &self.robot_patterns,
        }
    }

    /// Makes watchers of the people a follow-up was sent to (`copied`:
    /// intake's watchers of the message, our own addresses already left
    /// out), except the ticket's reporter, those already watching, the team
    /// and robots; each recorded as done by `author`. Returns the addresses
    /// added.
    pub(super) async fn watch_from_follow_up(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        copied: &[Person],
        author: &str,
    ) -> Result<Vec<String>, StoreError> {
        if copied.is_empty() {
            return Ok(Vec::new());
        }
        let reporter: String = sql::query("SELECT reporter_email FROM tickets WHERE id = $1")
            .bind(ticket_id)
            .fetch_one(tx)
            .await?
            .try_get(0)?;
        let candidates = self.candidates();
        let mut added = Vec::new();
        for person in copied {
            let email = person.email.to_lowercase();
            if email == reporter.to_lowercase() || added.contains(&email) {
                continue;
            }
            if candidates.skipped(&email).is_some() {
                continue;
            }
            if Self::insert_watcher(tx, ticket_id, &email, person.name.as_deref(), author).await? {
                added.push(email);
            }
        }
        Ok(added)
    }

    /// Adds a watcher unless already there, recording it. Returns whether
    /// it was added.
    async fn insert_watcher(
        tx: &mut WriteTx,
        ticket_id: i64,
        email: &str,
        name: Option<&str>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let added = sql::query(
            "INSERT INTO ticket_watchers (ticket_id, email, name) VALUES ($1, $2, $3)
             ON CONFLICT (ticket_id, email) DO NOTHING",
        )
        .bind(ticket_id)
        .bind(email)
        .bind(name)
        .execute(tx)
        .await?
            > 0;
        if added {
            let event = NewEvent {
                ticket_id,
                kind: KIND,
                field: Some(FIELD),
                old: None,
                new: Some(email),
                detail: None,
                actor,
                public: false,
            };
            Self::record_event(tx, &event).await?;
        }
        Ok(added)
    }

    /// Adds `email` to the ticket's watchers, who get its public mail from
    /// now on, recorded as done by `actor`. Adding one already watching (or
    /// the reporter, who gets the mail anyway) changes nothing.
    pub async fn add_watcher(
        &self,
        key: &str,
        actor: &str,
        email: &str,
    ) -> Result<WatcherChange, StoreError> {
        let email = checked(email)?;
        let mut tx = self.begin_write().await?;
        let (id, key, _) = self.ticket_for_action(&mut tx, key).await?;
        let reporter: String = sql::query("SELECT reporter_email FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_one(&mut tx)
            .await?
            .try_get(0)?;
        let changed =
            reporter != email && Self::insert_watcher(&mut tx, id, &email, None, actor).await?;
        tx.commit().await?;
        Ok(WatcherChange {
            key,
            email,
            changed,
        })
    }

    /// Takes `email` off the ticket's watchers, recorded as done by
    /// `actor`. Removing one who is not watching changes nothing.
    pub async fn remove_watcher(
        &self,
        key: &str,
        actor: &str,
        email: &str,
    ) -> Result<WatcherChange, StoreError> {
        let email = checked(email)?;
        let mut tx = self.begin_write().await?;
        let (id, key, _) = self.ticket_for_action(&mut tx, key).await?;
        let changed = sql::query("DELETE FROM ticket_watchers WHERE ticket_id = $1 AND email = $2")
            .bind(id)
            .bind(&email)
            .execute(&mut tx)
            .await?
            > 0;
        if changed {
            let event = NewEvent {
                ticket_id: id,
                kind: KIND,
                field: Some(FIELD),
                old: Some(&email),
                new: None,
                detail: None,
                actor,
                public: false,
            };
            Self::record_event(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(WatcherChange {
            key,
            email,
            changed,
        })
    }
}

/// An address given by the team, checked and lower case.
fn checked(email: &str) -> Result<String, StoreError> {
    EmailAddress::parse_dotted(email)
        .map(EmailAddress::into_string)
        .map_err(|e| StoreError::Invalid(format!("watcher {email:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(email: &str, expected: Option<Skipped>) {
        let team = [
            "alice@vendor.example".to_owned(),
            "@support.vendor.example".to_owned(),
        ];
        let robots = [
            "noreply".to_owned(),
            "mailer-daemon".to_owned(),
            String::new(),
        ];
        let candidates = Candidates {
            team_addresses: &team,
            queue_addresses: vec!["team@example.com".into(), "atlas-team@example.com".into()],
            robot_patterns: &robots,
        };
        assert_eq!(candidates.skipped(email), expected, "{email}");
    }

    #[test]
    fn who_copied_on_a_follow_up_becomes_a_watcher() {
        check("paul@acme.fr", None);
        check("alice@vendor.example", Some(Skipped::Team));
        check("alice+tickets@vendor.example", Some(Skipped::Team));
        check("bob@support.vendor.example", Some(Skipped::Team));
        check("bob@vendor.example", None);
        check("team@example.com", Some(Skipped::Queue));
        check("Team+urgent@Example.com", Some(Skipped::Queue));
        check("atlas-team@example.com", Some(Skipped::Queue));
        check("noreply@acme.fr", Some(Skipped::Robot));
        check("shop-noreply@acme.fr", Some(Skipped::Robot));
        check("mailer-daemon@acme.fr", Some(Skipped::Robot));
        // The domain is not the local part; an empty pattern matches nothing.
        check("paul@noreply.example", None);
    }

    #[test]
    fn base_addresses_lose_case_and_tag() {
        assert_eq!(
            base_address("Support+Atlas@Example.COM"),
            "support@example.com"
        );
        assert_eq!(base_address("+only@example.com"), "+only@example.com");
        assert_eq!(base_address("plain"), "plain");
    }
}
