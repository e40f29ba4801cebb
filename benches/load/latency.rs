//! The latency table: each path at a constant rate with many keys, in interleaved rounds (the
//! chat paths at the main rate, the `/models` paths at their own), then the pass-through with
//! one key to see its refusals; and the table that compares them with calling the simulator
//! directly.

use std::fmt::Write as _;

use crate::config::Config;
use crate::generator::Keys;
use crate::paths::{self, PathRun, Who};
use crate::progress;
use crate::requests;
use crate::servers::Lab;
use crate::stats::{
    added, added_text, answers_text, errors_text, met, mib, ok_quantiles, signed_us, us,
};
use crate::targets::Target;

/// The constant-rate paths: `fast` at the main rate (direct, nginx, pass-through,
/// ChatCompletion, the MCP `chat` tool), `slow` the `/models` ones at their own rate.
pub struct Latency {
    pub fast: Vec<PathRun>,
    pub slow: Vec<PathRun>,
}

/// Measures every path, many keys, in interleaved rounds.
pub async fn measure(cfg: &Config, lab: &Lab) -> Latency {
    let chat = requests::chat(Keys::Pool);
    let action = requests::action(Keys::Pool);
    let tool_call = requests::tool_call(Keys::Pool);
    let models = requests::models(Keys::Pool);
    let list_models = requests::list_models(Keys::Pool);
    let service = lab.service.addr;
    let mut fast = vec![PathRun::new(
        "direct (simulator)",
        Who::Direct,
        lab.sim.addr,
        vec![chat.clone()],
        cfg.rate,
    )];
    if let Some(n) = &lab.nginx {
        fast.push(PathRun::new(
            "nginx `proxy_pass`",
            Who::Nginx,
            n.nginx.addr,
            vec![chat.clone()],
            cfg.rate,
        ));
    }
    fast.push(PathRun::new(
        "service pass-through",
        Who::Service("PassThrough"),
        service,
        vec![chat],
        cfg.rate,
    ));
    fast.push(PathRun::new(
        "service ChatCompletion action",
        Who::Service("ChatCompletion"),
        service,
        vec![action],
        cfg.rate,
    ));
    fast.push(PathRun::new(
        "service MCP `chat` tool",
        Who::Service("InvokeMCP"),
        service,
        vec![tool_call],
        cfg.rate,
    ));
    let mut slow = vec![
        PathRun::new(
            "direct `GET /models` (350 models)",
            Who::Direct,
            lab.sim.addr,
            vec![models],
            cfg.models_rate,
        ),
        PathRun::new(
            "service ListModels (350 models)",
            Who::Service("ListModels"),
            service,
            vec![list_models],
            cfg.models_rate,
        ),
    ];
    paths::measure_rounds(cfg, lab, &mut [&mut fast, &mut slow], |path| {
        format!("{} at {} req/s", path.name, path.rate)
    })
    .await;
    Latency { fast, slow }
}

/// One key at the same rate: all but the burst and one call per 600 ms get 429.
pub async fn measure_refusals(cfg: &Config, lab: &Lab) -> PathRun {
    let one_key = requests::chat(Keys::One("sk-or-v1-load-one-key".to_owned()));
    let mut refused = PathRun::new(
        "service pass-through, **one key** (429s)",
        Who::Service("PassThrough"),
        lab.service.addr,
        vec![one_key],
        cfg.rate,
    );
    progress("one key: refusals");
    let plan = cfg.plan(cfg.rate, (cfg.secs / 2.0).max(1.0));
    paths::measure(&mut refused, plan, lab).await;
    refused
}

/// What the pass-through and the ChatCompletion action must add at most, and whether they did.
fn target(
    who: Who,
    add: (Option<i64>, Option<i64>),
    nginx_added: Option<(Option<i64>, Option<i64>)>,
) -> (String, String) {
    match who {
        Who::Service("PassThrough") => match nginx_added {
            Some((Some(n50), Some(n99))) => {
                let (t50, t99) = (n50 as f64 * 1.5, n99 as f64 * 1.5);
                let ok = add.0.is_some_and(|a| a as f64 <= t50)
                    && add.1.is_some_and(|a| a as f64 <= t99);
                (
                    format!(
                        "added ≤ 1.5× nginx's: p50 ≤ {}, p99 ≤ {}",
                        signed_us(t50 as i64, false),
                        signed_us(t99 as i64, false)
                    ),
                    met(ok).to_owned(),
                )
            }
            _ => (
                "added ≤ 1.5× nginx's (nginx not measured)".to_owned(),
                "—".to_owned(),
            ),
        },
        Who::Service("ChatCompletion") => {
            let ok = add.0.is_some_and(|a| a <= 150_000) && add.1.is_some_and(|a| a <= 1_000_000);
            (
                "added p50 ≤ 150 µs, p99 ≤ 1 ms".to_owned(),
                met(ok).to_owned(),
            )
        }
        _ => (String::new(), String::new()),
    }
}

const LIST_MODELS: &str = "List Models (350 models): added p50 over the direct fetch";
const LIST_MODELS_TARGET: &str = "added p50 ≤ 1 ms over the direct fetch";

/// List Models' target: its p50 at most 1 ms above the direct `GET /models`'s.
pub fn list_models_target(latency: &Latency) -> Target {
    let p50 = |who: fn(Who) -> bool| {
        latency
            .slow
            .iter()
            .find(|p| who(p.who))
            .and_then(|p| ok_quantiles(&p.samples, 200)[0])
    };
    let direct = p50(|w| w == Who::Direct);
    let service = p50(|w| w == Who::Service("ListModels"));
    match added(service, direct) {
        Some(add) => Target::new(
            LIST_MODELS,
            LIST_MODELS_TARGET,
            added_text(Some(add)),
            Some(add <= 1_000_000),
        ),
        None => Target::unmeasured(LIST_MODELS, LIST_MODELS_TARGET, "no answers to compare"),
    }
}

/// The latency table: `fast` against its direct path (and the targets relative to nginx),
/// `slow` against its own direct path, and the one-key row's 429 answers.
pub fn report(out: &mut String, latency: &Latency, refused: &PathRun) {
    let Latency { fast, slow } = latency;
    let _ = writeln!(
        out,
        "### Latency at a constant rate (200 answers; the one-key row: 429 answers)\n"
    );
    let _ = writeln!(
        out,
        "| path | offered req/s | achieved req/s | p50 | p99 | p99.9 | added p50 | added p99 | answers | errors / drops | peak RSS | p50 by round | others' CPU | target | met? |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let direct_q = direct_quantiles(fast);
    let nginx_added = fast.iter().find(|p| p.who == Who::Nginx).map(|p| {
        let q = ok_quantiles(&p.samples, 200);
        (added(q[0], direct_q[0]), added(q[1], direct_q[1]))
    });
    for path in fast {
        let q = ok_quantiles(&path.samples, 200);
        let add = (added(q[0], direct_q[0]), added(q[1], direct_q[1]));
        let (target, ok) = target(path.who, add, nginx_added);
        row(out, path, q, add, &target, &ok, 200);
    }
    let base = slow
        .iter()
        .find(|p| p.who == Who::Direct)
        .map(|p| ok_quantiles(&p.samples, 200));
    let list_models = list_models_target(latency);
    for path in slow {
        let q = ok_quantiles(&path.samples, 200);
        let add = match (path.who, base) {
            (Who::Service(_), Some(b)) => (added(q[0], b[0]), added(q[1], b[1])),
            _ => (None, None),
        };
        let (target, ok) = if path.who == Who::Service("ListModels") {
            (list_models.target.as_str(), list_models.met_text())
        } else {
            ("", "")
        };
        row(out, path, q, add, target, ok, 200);
    }
    let q = ok_quantiles(&refused.samples, 429);
    row(out, refused, q, (None, None), "", "", 429);
    out.push('\n');
}

fn direct_quantiles(paths: &[PathRun]) -> [Option<u64>; 3] {
    paths
        .iter()
        .find(|p| p.who == Who::Direct)
        .map_or([None; 3], |p| ok_quantiles(&p.samples, 200))
}

fn row(
    out: &mut String,
    path: &PathRun,
    q: [Option<u64>; 3],
    add: (Option<i64>, Option<i64>),
    target: &str,
    ok: &str,
    status: u16,
) {
    let expected: &[u16] = if status == 429 { &[200, 429] } else { &[200] };
    let rounds: Vec<String> = path.round_p50.iter().map(|p| us(*p)).collect();
    let rounds = if status == 429 {
        "—".to_owned()
    } else {
        rounds.join(", ")
    };
    let (add50, add99) = if path.who == Who::Direct {
        ("baseline".to_owned(), "baseline".to_owned())
    } else {
        (added_text(add.0), added_text(add.1))
    };
    let _ = writeln!(
        out,
        "| {} | {:.0} | {:.0} | {} | {} | {} | {add50} | {add99} | {} | {} | {} | {} | {:.2} | {} | {} |",
        path.name,
        path.rate,
        path.samples.achieved(),
        us(q[0]),
        us(q[1]),
        us(q[2]),
        answers_text(&path.samples),
        errors_text(&path.samples, expected),
        if path.who == Who::Direct {
            "—".to_owned()
        } else {
            mib(path.peak_kib)
        },
        rounds,
        path.other_cpu.cores(),
        target,
        ok
    );
}
