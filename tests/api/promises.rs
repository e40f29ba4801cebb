//! Issue 12's promises, one black-box test per defect found by held-out probes: nothing an
//! upstream, a client or a setting sends may stop the process or bend an answer.

mod calls;
mod process;
mod upstream_answers;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An upstream that answers every request with the same raw bytes, then closes: framing the
/// simulator (a well-behaved HTTP server) cannot produce.
pub struct RawUpstream {
    pub base_url: String,
    requests: Arc<AtomicUsize>,
}

impl RawUpstream {
    pub async fn answering(bytes: &'static [u8]) -> RawUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/api/v1", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let _ = socket.write_all(bytes).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        RawUpstream { base_url, requests }
    }

    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}
