//! An adversarial upstream, and hostile clients, against the real service process (issue 12).
//!
//! `upstream` is a raw-socket HTTP/1.1 server that writes whatever bytes it is told to, covering
//! what the simulator cannot: lying framing, odd heads and status lines, wrong-shape and
//! enormous bodies, gzip bombs, redirects, echoed keys, closed and hanging connections.
//! `property` sends thousands of generated cases (`cases`) through the service and checks each
//! answer against the contract (`expect`); `client` sends malformed requests over raw sockets.

mod cases;
mod client;
mod expect;
mod property;
mod upstream;
mod wire;

/// The key every hostile test calls with: recognisable anywhere it might leak to.
pub const KEY: &str = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
