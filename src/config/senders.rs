//! `[senders]`: who may open tickets, and who never gets automatic mail.

use super::checker::Checker;
use super::raw::RawSenders;
use crate::model::SenderPolicy;

pub(super) struct SenderSettings {
    pub policy: SenderPolicy,
    pub allowed_domains: Vec<String>,
    pub no_reply_patterns: Vec<String>,
    pub auto_reply_limit: u32,
}

pub(super) fn senders(c: &mut Checker, raw: &RawSenders) -> SenderSettings {
    SenderSettings {
        policy: c.named("senders.policy", &raw.policy, SenderPolicy::Open),
        allowed_domains: raw
            .allowed_domains
            .iter()
            .map(|d| d.to_lowercase())
            .collect(),
        no_reply_patterns: (raw.no_reply_patterns.iter())
            .map(|p| p.trim().to_lowercase())
            .collect(),
        auto_reply_limit: raw.auto_reply_limit,
    }
}
