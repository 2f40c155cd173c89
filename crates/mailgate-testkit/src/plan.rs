//! The plan of a set: what each index is, who writes it, what it replies
//! to, which messages carry attachments or HTML only.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::mix::Mix;
use crate::people::Customer;
use crate::rng::weighted;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ticket,
    Reply,
    AutoReply,
    Bounce,
    NoSender,
}

#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) kind: Kind,
    pub(crate) html_only: bool,
    pub(crate) attachments: usize,
    pub(crate) customer: usize,
    pub(crate) parent: Option<usize>,
    pub(crate) root: Option<usize>,
}

pub(crate) fn plan(rng: &mut ChaCha8Rng, count: usize, mix: &Mix) -> (Vec<Slot>, Vec<Customer>) {
    let share = |p: f64| -> usize { (count as f64 * p.clamp(0.0, 1.0)).round() as usize };
    let robots = share(mix.robots).min(count);
    let rejects = share(mix.no_sender).min(count - robots);
    let replies = share(mix.replies).min(count - robots - rejects);
    let bounces = robots * 2 / 5;
    let mut kinds = Vec::with_capacity(count);
    kinds.extend(std::iter::repeat_n(Kind::AutoReply, robots - bounces));
    kinds.extend(std::iter::repeat_n(Kind::Bounce, bounces));
    kinds.extend(std::iter::repeat_n(Kind::NoSender, rejects));
    kinds.extend(std::iter::repeat_n(Kind::Reply, replies));
    kinds.resize(count, Kind::Ticket);
    kinds.shuffle(rng);
    // A reply needs an earlier ticket.
    let mut seen_ticket = false;
    for i in 0..count {
        if kinds[i] == Kind::Reply && !seen_ticket {
            match (i + 1..count).find(|&j| kinds[j] == Kind::Ticket) {
                Some(j) => kinds.swap(i, j),
                None => kinds[i] = Kind::Ticket,
            }
        }
        seen_ticket |= kinds[i] == Kind::Ticket;
    }

    let customers: Vec<Customer> = (0..(count / 4).clamp(8, 5000))
        .map(|_| Customer::random(rng, mix.french))
        .collect();
    let mut slots: Vec<Slot> = kinds
        .iter()
        .map(|&kind| Slot {
            kind,
            html_only: false,
            attachments: 0,
            customer: 0,
            parent: None,
            root: None,
        })
        .collect();

    // Who writes what: a few customers write often.
    let mut earlier: Vec<usize> = Vec::new();
    for i in 0..count {
        match slots[i].kind {
            Kind::Ticket => {
                let u: f64 = rng.r#gen();
                slots[i].customer =
                    ((u * u * customers.len() as f64) as usize).min(customers.len() - 1);
                earlier.push(i);
            }
            Kind::Reply => {
                let parent = if rng.gen_bool(0.6) {
                    let recent = earlier.len().min(30);
                    earlier[earlier.len() - recent + rng.gen_range(0..recent)]
                } else {
                    earlier[rng.gen_range(0..earlier.len())]
                };
                let root = slots[parent].root.unwrap_or(parent);
                slots[i].parent = Some(parent);
                slots[i].root = Some(root);
                slots[i].customer = slots[root].customer;
                earlier.push(i);
            }
            Kind::AutoReply | Kind::Bounce | Kind::NoSender => {
                slots[i].customer = rng.gen_range(0..customers.len());
            }
        }
    }

    let mut people = earlier;
    people.shuffle(rng);
    for &i in people.iter().take(share(mix.attachments)) {
        slots[i].attachments = weighted(rng, &[(1, 0.8), (2, 0.15), (3, 0.05)]);
    }
    people.shuffle(rng);
    for &i in people.iter().take(share(mix.html_only)) {
        slots[i].html_only = true;
    }
    (slots, customers)
}
