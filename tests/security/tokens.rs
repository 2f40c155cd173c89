//! Tracking tokens, the only key to a ticket's page: 160 bits from the OS
//! generator (40 hex digits), all distinct, and nothing to do with the
//! ticket's key or the order of creation. (The page refusing unknown,
//! altered and malformed tokens alike, and the API refusing missing and
//! wrong bearer tokens, are in tests/web.rs.)

use mailgate::config;
use mailgate::intake::{self, MailboxDefaults};
use mailgate::store::{Filed, Inbound, SourceKind, Store};

const TICKETS: usize = 120;

/// A store with `n` tickets filed as intake files them; their tokens in
/// key order.
async fn file_tickets(n: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailgate.toml");
    std::fs::write(
        &path,
        format!(
            "[database]\nurl = \"sqlite://{dir}/mailgate.db\"\n[outbox]\ndirectory = \"{dir}/outbox\"\n",
            dir = dir.path().display()
        ),
    )
    .unwrap();
    let settings = config::load(Some(&path), Some(Default::default())).unwrap();
    let store: Store = mailgate::wiring::open_store(&settings).await.unwrap();
    let mut tokens = Vec::new();
    for i in 1..=n {
        let raw = format!(
            "From: c{i}@acme.fr\nTo: support@example.com\nSubject: Request {i}\nMessage-ID: <t{i}@acme.fr>\n\nHello {i}\n"
        );
        let decision = intake::decide(
            raw.as_bytes(),
            &settings.intake,
            &MailboxDefaults::default(),
        );
        let inbound = Inbound {
            source: SourceKind::File,
            mailbox: None,
            uidvalidity: None,
            uid: None,
            raw: raw.as_bytes(),
            digest: None,
        };
        let key = format!("SUP-{i}");
        assert_eq!(
            store.file_message(&inbound, &decision).await.unwrap(),
            Filed::Ticket { key: key.clone() }
        );
        tokens.push(store.ticket(&key).await.unwrap().tracking_token);
    }
    store.close().await;
    tokens
}

#[tokio::test]
async fn tracking_tokens_are_160_random_bits() {
    let tokens = file_tickets(TICKETS).await;
    for token in &tokens {
        assert_eq!(token.len(), 40, "{token}");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{token}"
        );
    }
    let mut distinct = tokens.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), tokens.len(), "tokens repeat");

    // Every bit is a coin toss: 120 × 160 bits hold 9,600 ones on average
    // (standard deviation 69); six deviations would not happen by chance.
    let bits: Vec<[u8; 20]> = tokens
        .iter()
        .map(|t| hex::decode(t).unwrap().try_into().unwrap())
        .collect();
    let ones: u32 = bits
        .iter()
        .flat_map(|b| b.iter())
        .map(|byte| byte.count_ones())
        .sum();
    let total = (TICKETS * 160) as f64;
    let sd = (total / 4.0).sqrt();
    assert!(
        (f64::from(ones) - total / 2.0).abs() < 6.0 * sd,
        "{ones} ones in {total} bits"
    );
    // No position is stuck: every one of the 160 bits is set in some token
    // and clear in another (a stuck bit would show 120 times out of 120).
    for bit in 0..160 {
        let set = bits
            .iter()
            .filter(|b| b[bit / 8] & (0x80 >> (bit % 8)) != 0)
            .count();
        assert!(set > 0 && set < TICKETS, "bit {bit} set in {set} tokens");
    }
    // Consecutive tickets share nothing: about 2.5 hex digits in 40 agree
    // at the same place by chance.
    for pair in tokens.windows(2) {
        let same = pair[0]
            .bytes()
            .zip(pair[1].bytes())
            .filter(|(a, b)| a == b)
            .count();
        assert!(
            same < 16,
            "{} and {} agree on {same} digits",
            pair[0],
            pair[1]
        );
    }

    // Another database gives its SUP-1 another token: not derived from the
    // key, the content or the sequence.
    let again = file_tickets(2).await;
    assert_ne!(again[0], tokens[0]);
    assert_ne!(again[1], tokens[1]);
    assert!(!tokens.contains(&again[0]));
}
