//! The streaming table: `stream: true` calls (18 SSE chunks 5 ms apart) directly, through nginx
//! (its server with `proxy_buffering off`, as a proxy for server-sent events is set up) and
//! through the pass-through, in interleaved rounds, compared by time to the first body byte and
//! to the last.

use std::fmt::Write as _;

use crate::config::Config;
use crate::generator::Keys;
use crate::paths::{self, PathRun, Who};
use crate::requests;
use crate::servers::Lab;
use crate::stats::{added, added_text, errors_text, ok_quantiles, quantiles, signed_us, us};
use crate::targets::Target;

/// Measures the direct path, nginx and the pass-through, many keys, at the streaming rate.
pub async fn measure(cfg: &Config, lab: &Lab) -> Vec<PathRun> {
    let stream = requests::stream(Keys::Pool);
    let mut streams = vec![PathRun::new(
        "direct (simulator)",
        Who::Direct,
        lab.sim.addr,
        vec![stream.clone()],
        cfg.stream_rate,
    )];
    if let Some(n) = &lab.nginx {
        streams.push(PathRun::new(
            "nginx `proxy_pass` (`proxy_buffering off`)",
            Who::Nginx,
            n.streaming,
            vec![stream.clone()],
            cfg.stream_rate,
        ));
    }
    streams.push(PathRun::new(
        "service pass-through",
        Who::Service("PassThrough"),
        lab.service.addr,
        vec![stream],
        cfg.stream_rate,
    ));
    paths::measure_rounds(cfg, lab, &mut [&mut streams], |path| {
        format!("streaming via {}", path.name)
    })
    .await;
    streams
}

/// Time to first byte: p50, p99, p99.9 of each path's 200 answers.
fn first_byte(path: &PathRun) -> [Option<u64>; 3] {
    let mut first = path.samples.first_byte.clone();
    quantiles(&mut first)
}

/// What `who` adds to the direct path's TTFB p50.
fn added_p50(streams: &[PathRun], who: Who) -> Option<i64> {
    let p50 = |w: Who| {
        streams
            .iter()
            .find(|p| p.who == w)
            .and_then(|p| first_byte(p)[0])
    };
    added(p50(who), p50(Who::Direct))
}

const TTFB: &str = "streamed time to first byte: added p50";
const TTFB_TARGET: &str = "added ≤ nginx's added + 50 µs";

/// The pass-through's target: what it adds to the first byte (p50) at most 50 µs more than what
/// nginx adds.
pub fn ttfb_target(streams: &[PathRun]) -> Target {
    let service = added_p50(streams, Who::Service("PassThrough"));
    match (service, added_p50(streams, Who::Nginx)) {
        (Some(service), Some(nginx)) => Target::new(
            TTFB,
            TTFB_TARGET,
            format!(
                "{} (nginx {}; limit {})",
                added_text(Some(service)),
                added_text(Some(nginx)),
                signed_us(nginx + 50_000, true)
            ),
            Some(service <= nginx + 50_000),
        ),
        (Some(service), None) => Target::unmeasured(
            TTFB,
            TTFB_TARGET,
            &format!("{} (nginx not measured)", added_text(Some(service))),
        ),
        _ => Target::unmeasured(TTFB, TTFB_TARGET, "no first bytes to compare"),
    }
}

/// The table: time to first byte and to the last, what each path adds to each, the target.
pub fn report(out: &mut String, streams: &[PathRun]) {
    let _ = writeln!(
        out,
        "### Streaming (`stream: true`, 18 SSE chunks 5 ms apart): time to first body byte\n"
    );
    let _ = writeln!(
        out,
        "| path | streams/s | TTFB p50 | TTFB p99 | added p50 | added p99 | last byte p50 | added p50 (last byte) | errors / drops | target | met? |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    let base = streams.iter().find(|p| p.who == Who::Direct);
    let base_first = base.map_or([None; 3], first_byte);
    let base_last = base.map_or([None; 3], |p| ok_quantiles(&p.samples, 200));
    let target = ttfb_target(streams);
    for path in streams {
        let f = first_byte(path);
        let last = ok_quantiles(&path.samples, 200);
        let direct = path.who == Who::Direct;
        let show = |v: Option<i64>| {
            if direct {
                "—".to_owned()
            } else {
                added_text(v)
            }
        };
        let (target_text, ok) = if path.who == Who::Service("PassThrough") {
            (target.target.as_str(), target.met_text())
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {target_text} | {ok} |",
            path.name,
            path.rate,
            us(f[0]),
            us(f[1]),
            show(added(f[0], base_first[0])),
            show(added(f[1], base_first[1])),
            us(last[0]),
            show(added(last[0], base_last[0])),
            errors_text(&path.samples, &[200])
        );
    }
    out.push('\n');
}
