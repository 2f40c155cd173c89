//! The fields of a new request (severity, products, request type), where
//! the customer states each of them, and the ticket they should give.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::expect::Expect;
use crate::rng::weighted;
use crate::vocab::{PRODUCTS, SEVERITIES, Topic};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    Nowhere,
    Body,
    Subject,
    Plus,
    Own,
}

/// What a new request states, and where.
pub(crate) struct Fields {
    pub(crate) severity: usize,
    pub(crate) products: Vec<usize>,
    pub(crate) feature: bool,
    pub(crate) severity_at: At,
    pub(crate) products_at: At,
    pub(crate) type_at: At,
}

impl Fields {
    pub(crate) fn choose(rng: &mut ChaCha8Rng, topic: &Topic) -> Self {
        let feature = topic.feature;
        let severity = if feature {
            weighted(rng, &[(3, 0.45), (2, 0.55)])
        } else {
            weighted(rng, &[(0, 0.12), (1, 0.28), (2, 0.40), (3, 0.20)])
        };
        let mut severity_at = match severity {
            2 => weighted(
                rng,
                &[(At::Nowhere, 0.6), (At::Body, 0.25), (At::Subject, 0.15)],
            ),
            0 => weighted(rng, &[(At::Body, 0.5), (At::Subject, 0.4), (At::Plus, 0.1)]),
            _ => weighted(rng, &[(At::Body, 0.55), (At::Subject, 0.45)]),
        };
        let count = weighted(rng, &[(0usize, 0.12), (1, 0.76), (2, 0.12)]);
        let mut products = Vec::new();
        if count > 0 {
            products.push(topic.product);
        }
        if count > 1 {
            let other = (topic.product + rng.gen_range(1..4)) % 4;
            products.push(other);
        }
        let products_at = match count {
            0 => At::Nowhere,
            1 => weighted(
                rng,
                &[(At::Body, 0.45), (At::Subject, 0.35), (At::Plus, 0.2)],
            ),
            _ => weighted(rng, &[(At::Body, 0.7), (At::Subject, 0.3)]),
        };
        let mut type_at = if feature {
            weighted(
                rng,
                &[
                    (At::Subject, 0.35),
                    (At::Body, 0.3),
                    (At::Own, 0.15),
                    (At::Plus, 0.05),
                    (At::Nowhere, 0.15),
                ],
            )
        } else {
            weighted(
                rng,
                &[(At::Nowhere, 0.85), (At::Body, 0.1), (At::Subject, 0.05)],
            )
        };
        // One plus tag per address.
        if products_at == At::Plus && type_at == At::Plus {
            type_at = At::Subject;
        }
        if severity_at == At::Plus && (products_at == At::Plus || type_at == At::Plus) {
            severity_at = At::Body;
        }
        Fields {
            severity,
            products,
            feature,
            severity_at,
            products_at,
            type_at,
        }
    }

    pub(crate) fn expect(&self, lang: Language) -> Expect {
        Expect::Ticket {
            severity: if self.severity_at == At::Nowhere {
                "medium".into()
            } else {
                SEVERITIES[self.severity].into()
            },
            products: if self.products_at == At::Nowhere {
                Vec::new()
            } else {
                self.products
                    .iter()
                    .map(|&p| PRODUCTS[p].to_owned())
                    .collect()
            },
            request_type: if self.feature && self.type_at != At::Nowhere {
                "feature".into()
            } else {
                "support".into()
            },
            language: lang,
        }
    }
}
