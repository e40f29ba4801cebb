//! What the pass-through adds to a streamed chat: time to first byte and delay per chunk, through
//! the service versus straight to the simulator, over a few hundred interleaved requests. Each
//! answer is 20 SSE events paced 5 ms apart. Run with `cargo bench --bench passthrough`;
//! `PASSTHROUGH_BENCH_QUICK=1` runs a seconds-long smoke pass. Prints a markdown table.

use std::time::{Duration, Instant};

use openrouter_connector::settings::Settings;
use openrouter_connector::startup::Application;
use openrouter_simulator::{Reply, Simulator};

const KEY: &str = "sk-or-v1-bench0123456789abcdef";
const EVENTS: usize = 20;
const PACE: Duration = Duration::from_millis(5);

/// The streamed answer: 19 content chunks shaped like OpenRouter's, then `[DONE]`.
fn stream_text() -> String {
    let mut text = String::new();
    for i in 0..EVENTS - 1 {
        text.push_str(&format!(
            "data: {{\"id\":\"gen-bench\",\"provider\":\"OpenAI\",\"model\":\"openai/gpt-4o-mini\",\
             \"object\":\"chat.completion.chunk\",\"created\":1770000000,\"choices\":[{{\"index\":0,\
             \"delta\":{{\"role\":\"assistant\",\"content\":\" word{i}\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    text.push_str("data: [DONE]\n\n");
    text
}

/// When each event of one answer arrived, counted from the moment the request was sent.
struct Timings {
    arrivals: Vec<Duration>,
}

/// Sends one streamed chat and notes when the last byte of each event arrived.
async fn one_stream(client: &reqwest::Client, url: &str, ends: &[usize]) -> Option<Timings> {
    let body = r#"{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#;
    let started = Instant::now();
    let mut response = client
        .post(url)
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .ok()?;
    let mut arrivals = Vec::with_capacity(ends.len());
    let mut received = 0;
    while let Some(chunk) = response.chunk().await.ok()? {
        let now = started.elapsed();
        received += chunk.len();
        while arrivals.len() < ends.len() && received >= ends[arrivals.len()] {
            arrivals.push(now);
        }
    }
    (arrivals.len() == ends.len()).then_some(Timings { arrivals })
}

/// Time for one whole non-streamed answer.
async fn one_call(client: &reqwest::Client, url: &str) -> Option<Duration> {
    let started = Instant::now();
    let response = client.get(url).bearer_auth(KEY).send().await.ok()?;
    response.bytes().await.ok()?;
    Some(started.elapsed())
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * p).round() as usize;
    values.get(index).copied().unwrap_or(f64::NAN)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// What one path (direct or through the service) measured, in milliseconds.
#[derive(Default)]
struct Path {
    ttfb: Vec<f64>,
    /// Per answer, when each event after the first arrived, counted from the first.
    offsets: Vec<Vec<f64>>,
    gaps: Vec<f64>,
    calls: Vec<f64>,
}

impl Path {
    fn add(&mut self, timings: &Timings) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let first = timings.arrivals[0];
        self.ttfb.push(ms(first));
        let offsets = timings.arrivals[1..]
            .iter()
            .map(|at| ms(at.saturating_sub(first)));
        self.offsets.push(offsets.collect());
        for pair in timings.arrivals.windows(2) {
            self.gaps.push(ms(pair[1].saturating_sub(pair[0])));
        }
    }

    /// The mean offset of each event after the first.
    fn mean_offsets(&self) -> Vec<f64> {
        (0..EVENTS - 1)
            .map(|i| mean(&self.offsets.iter().map(|o| o[i]).collect::<Vec<_>>()))
            .collect()
    }

    /// How much later than `baseline` (the direct path's mean) each event arrived, counted from
    /// the first event of its answer: the delay a path adds per chunk, beyond the first byte.
    fn lateness(&self, baseline: &[f64]) -> Vec<f64> {
        self.offsets
            .iter()
            .flat_map(|o| o.iter().zip(baseline).map(|(at, base)| at - base))
            .collect()
    }
}

fn row(name: &str, direct: f64, via: f64) {
    println!(
        "| {name} | {direct:.3} ms | {via:.3} ms | {:+.3} ms |",
        via - direct
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let quick = std::env::var_os("PASSTHROUGH_BENCH_QUICK").is_some();
    let (warmup, rounds) = if quick { (5, 20) } else { (30, 300) };

    let Ok(sim) = Simulator::start().await else {
        eprintln!("the simulator could not start");
        std::process::exit(1);
    };
    sim.set_recording(false);
    let Ok(mut settings) = Settings::for_upstream(&sim.base_url()) else {
        eprintln!("the simulator's URL is not a base URL");
        std::process::exit(1);
    };
    settings.workers = Some(1);
    settings.rate_limit_per_minute = 1_000_000;
    settings.rate_limit_burst = 1_000_000;
    let app = match Application::build(&settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("the service could not start: {error}");
            std::process::exit(1);
        }
    };
    let service = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());

    let client = || reqwest::Client::builder().tcp_nodelay(true).build();
    let (Ok(direct_client), Ok(via_client)) = (client(), client()) else {
        eprintln!("no HTTP client");
        std::process::exit(1);
    };
    let text = stream_text();
    let mut ends = Vec::new();
    let mut end = 0;
    for event in text.split_inclusive("\n\n") {
        end += event.len();
        ends.push(end);
    }
    let direct_url = format!("{}/chat/completions", sim.base_url());
    let via_url = format!("{service}/api/v1/chat/completions");
    let direct_credits = format!("{}/credits", sim.base_url());
    let via_credits = format!("{service}/api/v1/credits");

    let mut direct = Path::default();
    let mut via = Path::default();
    let mut failures = 0;
    for round in 0..warmup + rounds {
        // Alternate which path goes first, so neither always meets a warmer cache.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for through_service in order {
            let reply = Reply::sse(text.clone()).chunk_delay(PACE);
            sim.enqueue("POST", "/chat/completions", reply);
            let (client, url, call_url, path) = if through_service {
                (&via_client, &via_url, &via_credits, &mut via)
            } else {
                (&direct_client, &direct_url, &direct_credits, &mut direct)
            };
            let timings = one_stream(client, url, &ends).await;
            let call = one_call(client, call_url).await;
            match (timings, call) {
                (Some(timings), Some(call)) if round >= warmup => {
                    path.add(&timings);
                    path.calls.push(call.as_secs_f64() * 1000.0);
                }
                (Some(_), Some(_)) => {}
                _ => failures += 1,
            }
        }
    }
    if failures > 0 || direct.ttfb.is_empty() || via.ttfb.is_empty() {
        eprintln!("{failures} requests failed");
        std::process::exit(1);
    }

    println!(
        "{rounds} streamed chats each way ({EVENTS} SSE events {} ms apart), interleaved; \
         and as many non-streamed GET /credits.\n",
        PACE.as_millis()
    );
    println!("| measure | direct to the simulator | through the service | added |");
    println!("|---|---|---|---|");
    row(
        "time to first byte, p50",
        percentile(&mut direct.ttfb, 0.5),
        percentile(&mut via.ttfb, 0.5),
    );
    row(
        "time to first byte, p99",
        percentile(&mut direct.ttfb, 0.99),
        percentile(&mut via.ttfb, 0.99),
    );
    let baseline = direct.mean_offsets();
    let (mut direct_late, mut via_late) = (direct.lateness(&baseline), via.lateness(&baseline));
    row(
        "chunk arrival after the first, vs direct mean, p50",
        percentile(&mut direct_late, 0.5),
        percentile(&mut via_late, 0.5),
    );
    row(
        "chunk arrival after the first, vs direct mean, p99",
        percentile(&mut direct_late, 0.99),
        percentile(&mut via_late, 0.99),
    );
    row(
        "chunk arrival after the first, vs direct mean, mean",
        mean(&direct_late),
        mean(&via_late),
    );
    row(
        "mean gap between chunks",
        mean(&direct.gaps),
        mean(&via.gaps),
    );
    row(
        "non-streamed GET /credits, p50",
        percentile(&mut direct.calls, 0.5),
        percentile(&mut via.calls, 0.5),
    );
    row(
        "non-streamed GET /credits, p99",
        percentile(&mut direct.calls, 0.99),
        percentile(&mut via.calls, 0.99),
    );
}
