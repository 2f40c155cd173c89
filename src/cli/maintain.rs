//! `mailgate maintain [--dry-run] [--vacuum] [--json]`: the retention rules
//! applied now and unreferenced contents collected (what the daemon does
//! once a day), with what was removed printed.

use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::store::MaintenanceReport;

#[derive(clap::Args)]
pub(super) struct MaintainArgs {
    /// Say what would be removed; nothing is written.
    #[arg(long)]
    dry_run: bool,
    /// SQLite: rewrite the database file afterwards whatever its size, so
    /// that the space freed goes back to the file system (takes as long as
    /// copying the file; filing waits meanwhile). Without it the file is
    /// rewritten only when it is under 512 MiB and a quarter free.
    #[arg(long, conflicts_with = "dry_run")]
    vacuum: bool,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

pub(super) async fn execute(settings: &Settings, args: &MaintainArgs) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let done = store.maintain(chrono::Utc::now(), args.dry_run).await;
    let mut report = match done {
        Ok(report) => report,
        Err(e) => {
            store.close().await;
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    if args.vacuum && report.skipped.is_none() {
        let before = report.file.as_ref().map(|f| f.bytes_before);
        if let Some(file) = store.rewrite_file(before).await {
            report.file = Some(file);
        }
    }
    store.close().await;
    if args.json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        print!("{}", described(&report, &settings.retention.describe()));
    }
    if report.skipped.is_some() {
        exit::TEMPFAIL
    } else {
        exit::OK
    }
}

/// The report as printed: one line per rule, then the space reclaimed.
fn described(report: &MaintenanceReport, rules: &str) -> String {
    if let Some(why) = &report.skipped {
        return format!("nothing done: {why}\n");
    }
    let c = &report.counts;
    let mut text = format!("retention: {rules}\n");
    for (n, what) in [
        (c.raw_messages, "raw message(s)".to_owned()),
        (c.outgoing_mail, "outgoing mail bod(ies)".to_owned()),
        (c.quarantine, "quarantined message(s)".to_owned()),
        (
            c.closed_tickets,
            format!("closed ticket(s) ({})", report.closed_tickets_mode),
        ),
        (c.contents, "unreferenced content(s)".to_owned()),
    ] {
        text += &format!("  {n:>8} {what}\n");
    }
    text += &format!(
        "{} bytes {}\n",
        report.bytes_reclaimed,
        if report.dry_run {
            "would be reclaimed (dry run: nothing was changed)"
        } else {
            "reclaimed"
        }
    );
    if let Some(file) = &report.file {
        text += &format!(
            "database file: {} bytes before, {} after{}\n",
            file.bytes_before,
            file.bytes_after,
            if file.vacuumed { " (rewritten)" } else { "" }
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FileCompaction, RuleCounts};

    #[test]
    fn a_report_lists_every_rule_and_the_space() {
        let report = MaintenanceReport {
            dry_run: false,
            skipped: None,
            run_id: Some(1),
            counts: RuleCounts {
                raw_messages: 12,
                contents: 12,
                ..RuleCounts::default()
            },
            closed_tickets_mode: "anonymise",
            bytes_reclaimed: 4096,
            file: Some(FileCompaction {
                bytes_before: 10,
                bytes_after: 5,
                log_truncated: true,
                vacuumed: true,
            }),
        };
        let text = described(&report, "raw_messages 90d");
        assert!(text.starts_with("retention: raw_messages 90d\n"), "{text}");
        assert!(text.contains("      12 raw message(s)\n"), "{text}");
        assert!(text.contains("closed ticket(s) (anonymise)"), "{text}");
        assert!(text.contains("4096 bytes reclaimed\n"), "{text}");
        assert!(
            text.contains("10 bytes before, 5 after (rewritten)"),
            "{text}"
        );
        let dry = MaintenanceReport {
            dry_run: true,
            file: None,
            ..report
        };
        assert!(described(&dry, "x").contains("nothing was changed"));
    }
}
