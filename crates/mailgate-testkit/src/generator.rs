//! The generator: one message at a time, each from its own random stream
//! (the seed and its index), after the plan drawn from the seed; the date
//! every kind of message shares.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::expect::Expect;
use crate::mix::Mix;
use crate::people::Customer;
use crate::plan::{Kind, Slot, plan};
use crate::reply::Sent;

/// One generated message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// Position in the set, from 0 (`mailgate-gen` names it
    /// `{index + 1:06}.eml`).
    pub index: usize,
    /// Its Message-ID in canonical form (no angle brackets, domain in lower
    /// case), as intake reads it.
    pub message_id: String,
    /// For a reply, the index of the message its `In-Reply-To` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<usize>,
    /// The decoded subject.
    pub subject: String,
    /// The envelope sender (`MAILER-DAEMON` for bounces and messages
    /// without a sender), for mbox separator lines.
    pub sender: String,
    pub date: DateTime<FixedOffset>,
    /// Files attached (none inline).
    pub attachments: usize,
    pub html_only: bool,
    /// The MIME structure, for people: `multipart/mixed [multipart/alternative]
    /// windows-1252 quoted-printable`.
    pub mime: String,
    /// The message, CRLF line endings.
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub expect: Expect,
}

/// Generates `count` messages. The same seed and count give the same bytes.
pub fn generate(seed: u64, count: usize, mix: &Mix) -> Vec<Generated> {
    Generator::new(seed, count, mix).collect()
}

/// The messages of [`generate`] one at a time, holding only what later
/// replies need of earlier messages (not their attachments).
pub struct Generator {
    seed: u64,
    pub(crate) mix: Mix,
    pub(crate) slots: Vec<Slot>,
    pub(crate) customers: Vec<Customer>,
    pub(crate) sent: Vec<Option<Sent>>,
    next: usize,
}

impl Generator {
    pub fn new(seed: u64, count: usize, mix: &Mix) -> Self {
        let mut mix = mix.clone();
        mix.min_attachment = mix.min_attachment.max(1);
        mix.max_attachment = mix.max_attachment.max(mix.min_attachment);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (slots, customers) = plan(&mut rng, count, &mix);
        Generator {
            seed,
            mix,
            slots,
            customers,
            sent: vec![None; count],
            next: 0,
        }
    }

    /// The date of message `index`: a moment in its own three minutes from
    /// 3 March 2025, 07:30 UTC, written at `offset_hours` from UTC.
    // A method like its siblings, though it reads nothing of the mix.
    #[allow(clippy::unused_self)]
    pub(crate) fn date(
        &self,
        rng: &mut ChaCha8Rng,
        index: usize,
        offset_hours: i32,
    ) -> DateTime<FixedOffset> {
        let base = Utc
            .with_ymd_and_hms(2025, 3, 3, 7, 30, 0)
            .single()
            .expect("a valid date");
        let at = base + Duration::seconds(index as i64 * 180 + rng.gen_range(0..180));
        at.with_timezone(&FixedOffset::east_opt(offset_hours * 3600).expect("a valid offset"))
    }
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        let index = self.next;
        if index >= self.slots.len() {
            return None;
        }
        self.next += 1;
        // Each message has its own stream: it depends on the seed, its index
        // and the plan only.
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64 + 1);
        let generated = match self.slots[index].kind {
            Kind::Ticket | Kind::Reply => {
                let (generated, sent) = self.person(&mut rng, index);
                self.sent[index] = Some(sent);
                generated
            }
            Kind::AutoReply => self.auto_reply(&mut rng, index),
            Kind::Bounce => self.bounce(&mut rng, index),
            Kind::NoSender => self.no_sender(&mut rng, index),
        };
        Some(generated)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.slots.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashSet;
    use std::sync::LazyLock;

    use super::*;
    use mailgate::model::Language;

    /// The benchmark's set: seed 1, 1,000 messages, the standard mix.
    pub(crate) static STANDARD: LazyLock<Vec<Generated>> =
        LazyLock::new(|| generate(1, 1000, &Mix::standard()));

    pub(crate) fn small_files(mix: Mix) -> Mix {
        Mix {
            max_attachment: 48 * 1024,
            ..mix
        }
    }

    #[test]
    fn the_same_seed_and_count_give_the_same_bytes() {
        let mix = small_files(Mix::standard());
        let a = generate(42, 200, &mix);
        let b = generate(42, 200, &mix);
        assert_eq!(a, b);
        let streamed: Vec<Generated> = Generator::new(42, 200, &mix).collect();
        assert_eq!(a, streamed);
        let other = generate(43, 200, &mix);
        assert!(a.iter().zip(&other).all(|(x, y)| x.raw != y.raw));
    }

    #[test]
    fn message_ids_are_unique_within_and_across_seeds() {
        let mut seen = HashSet::new();
        for g in STANDARD.iter() {
            assert!(seen.insert(g.message_id.clone()), "{} twice", g.message_id);
        }
        for seed in [2, 3] {
            for g in generate(seed, 1000, &small_files(Mix::standard())) {
                assert!(
                    seen.insert(g.message_id.clone()),
                    "{} again with seed {seed}",
                    g.message_id
                );
            }
        }
    }

    #[test]
    fn the_standard_mix_has_its_proportions() {
        let n = STANDARD.len() as f64;
        let share =
            |f: &dyn Fn(&Generated) -> bool| STANDARD.iter().filter(|g| f(g)).count() as f64 / n;
        let close = |name: &str, got: f64, want: f64| {
            assert!(
                (got - want).abs() <= 0.01,
                "{name}: {got} instead of {want}"
            );
        };
        close("attachments", share(&|g| g.attachments > 0), 0.20);
        close("html-only", share(&|g| g.html_only), 0.05);
        close(
            "robots",
            share(&|g| matches!(g.expect, Expect::Ignored { .. })),
            0.05,
        );
        close(
            "replies",
            share(&|g| matches!(g.expect, Expect::Comment { .. })),
            0.10,
        );
        close(
            "bounces",
            share(&|g| g.expect == Expect::Ignored { reason: "bounce" }),
            0.02,
        );
        let french = share(&|g| match &g.expect {
            Expect::Ticket { language, .. } => *language == Language::Fr,
            _ => false,
        });
        assert!((0.3..0.6).contains(&french), "French tickets: {french}");
        // Variety: every charset and transfer encoding, several products,
        // both request types, every severity.
        for needle in [
            "utf-8",
            "iso-8859-1",
            "windows-1252",
            "8bit",
            "quoted-printable",
            "base64",
        ] {
            assert!(
                STANDARD.iter().filter(|g| g.mime.contains(needle)).count() >= 10,
                "few {needle} messages"
            );
        }
        let mut severities = HashSet::new();
        let mut products = HashSet::new();
        let mut types = HashSet::new();
        for g in STANDARD.iter() {
            if let Expect::Ticket {
                severity,
                products: p,
                request_type,
                ..
            } = &g.expect
            {
                severities.insert(severity.clone());
                products.extend(p.iter().cloned());
                types.insert(request_type.clone());
            }
        }
        assert_eq!(severities.len(), 4);
        assert_eq!(products.len(), 4);
        assert_eq!(types.len(), 2);
        // Sizes: a few KB to 2 MB.
        let sizes: Vec<usize> = STANDARD.iter().map(|g| g.raw.len()).collect();
        assert!(sizes.iter().any(|&s| s > 1_500_000), "no large message");
        assert!(sizes.iter().all(|&s| s < 8 * 1024 * 1024));
    }

    #[test]
    fn small_sets_are_well_formed() {
        for count in 0..12 {
            let set = generate(9, count, &small_files(Mix::chaos()));
            assert_eq!(set.len(), count);
            for g in &set {
                if let Expect::Comment { of } = g.expect {
                    assert!(of < g.index);
                }
            }
        }
    }
}
