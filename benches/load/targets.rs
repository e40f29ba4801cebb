//! The targets: each table states the ones it measures beside its figures, and the
//! report ends with all of them in one table. Printed, never asserted.

use std::fmt::Write as _;

use crate::stats::met;

/// One target and what the run measured for it.
#[derive(Clone, Debug)]
pub struct Target {
    /// What is measured, e.g. "pass-through throughput".
    pub what: String,
    /// The target, e.g. "≥ 0.9 × nginx".
    pub target: String,
    /// The measured value, as printed.
    pub measured: String,
    /// Whether it was met; `None` when it was not measured (skipped, or no baseline).
    pub met: Option<bool>,
}

impl Target {
    pub fn new(what: &str, target: &str, measured: String, met: Option<bool>) -> Target {
        Target {
            what: what.to_owned(),
            target: target.to_owned(),
            measured,
            met,
        }
    }

    /// A target the run could not measure, and why.
    pub fn unmeasured(what: &str, target: &str, why: &str) -> Target {
        Target::new(what, target, why.to_owned(), None)
    }

    /// "yes", "**no**", or "—" when not measured.
    pub fn met_text(&self) -> &'static str {
        self.met.map_or("—", met)
    }
}

/// The final table: every target of the issue with its measured value, after `context` (when
/// and on what the run measured, so that the table can be quoted alone).
pub fn report(out: &mut String, targets: &[Target], context: &str) {
    let _ = writeln!(
        out,
        "### Targets (printed beside the measured values, never asserted)\n"
    );
    let _ = writeln!(out, "{context}\n");
    let _ = writeln!(out, "| what | target | measured | met? |");
    let _ = writeln!(out, "|---|---|---|---|");
    for t in targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            t.what,
            t.target,
            t.measured,
            t.met_text()
        );
    }
    let met = targets.iter().filter(|t| t.met == Some(true)).count();
    let measured = targets.iter().filter(|t| t.met.is_some()).count();
    let _ = writeln!(
        out,
        "\n{met} of {measured} measured targets met ({} not measured).\n",
        targets.len() - measured
    );
}
