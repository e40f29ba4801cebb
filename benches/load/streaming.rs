//! The streaming table: `stream: true` calls (18 SSE chunks 5 ms apart) directly and through the
//! pass-through, in interleaved rounds, compared by time to the first body byte and to the last.

use std::fmt::Write as _;

use crate::config::Config;
use crate::generator::Keys;
use crate::paths::{self, PathRun, Who};
use crate::requests;
use crate::servers::Lab;
use crate::stats::{added, added_text, errors_text, ok_quantiles, quantiles, us};

/// Measures the direct path and the pass-through, many keys, at the streaming rate.
pub async fn measure(cfg: &Config, lab: &Lab) -> [PathRun; 2] {
    let stream = requests::stream(Keys::Pool);
    let mut streams = [
        PathRun::new(
            "direct (simulator)",
            Who::Direct,
            lab.sim.addr,
            vec![stream.clone()],
            cfg.stream_rate,
        ),
        PathRun::new(
            "service pass-through",
            Who::Service("PassThrough"),
            lab.service.addr,
            vec![stream],
            cfg.stream_rate,
        ),
    ];
    paths::measure_rounds(cfg, lab, &mut [&mut streams], |path| {
        format!("streaming via {}", path.name)
    })
    .await;
    streams
}

/// The table: time to first byte and to the last, and what the pass-through adds to each.
pub fn report(out: &mut String, streams: &[PathRun]) {
    let _ = writeln!(
        out,
        "### Streaming (`stream: true`, 18 SSE chunks 5 ms apart): time to first body byte\n"
    );
    let _ = writeln!(
        out,
        "| path | streams/s | TTFB p50 | TTFB p99 | added p50 | added p99 | last byte p50 | added p50 (last byte) | errors / drops |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    let mut firsts = Vec::new();
    for path in streams {
        let mut first = path.samples.first_byte.clone();
        let f = quantiles(&mut first);
        let last = ok_quantiles(&path.samples, 200);
        firsts.push((f, last));
    }
    let (base_first, base_last) = firsts.first().copied().unwrap_or(([None; 3], [None; 3]));
    for (path, (f, last)) in streams.iter().zip(firsts) {
        let direct = path.who == Who::Direct;
        let show = |v: Option<i64>| {
            if direct {
                "—".to_owned()
            } else {
                added_text(v)
            }
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
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
