#!/bin/sh
# Writes stub sources for the dependency-caching layer of deploy/Dockerfile: an empty
# src/lib.rs, a src/main.rs with an empty main, and one for every [[bin]], [[bench]], [[test]]
# and [[example]] that Cargo.toml declares (cargo refuses to read a manifest whose declared
# targets have no file, even when building only --bin openrouter-connector).
#
#   sh deploy/stub-targets.sh [Cargo.toml]     (run in the directory of the manifest)
set -eu
manifest=${1:-Cargo.toml}

package=$(awk '
  /^\[package\][ \t]*$/ { inside = 1; next }
  /^\[/ { inside = 0 }
  inside && /^name[ \t]*=/ { value = $0; sub(/^[^=]*=[ \t]*"/, "", value); sub(/".*$/, "", value); print value; exit }
' "$manifest")

stub() {
  mkdir -p "$(dirname "$1")"
  [ -e "$1" ] || printf 'fn main() {}\n' > "$1"
}

mkdir -p src
: > src/lib.rs
stub src/main.rs

awk -v package="$package" '
  function flush() {
    if (kind == "") return
    if (path == "") {
      if (kind == "bin") path = (name == package ? "src/main.rs" : "src/bin/" name ".rs")
      else if (kind == "bench") path = "benches/" name ".rs"
      else if (kind == "test") path = "tests/" name ".rs"
      else path = "examples/" name ".rs"
    }
    print path
    kind = ""; name = ""; path = ""
  }
  function quoted(line,    value) {
    value = line; sub(/^[^=]*=[ \t]*"/, "", value); sub(/".*$/, "", value); return value
  }
  /^\[\[(bin|bench|test|example)\]\][ \t]*$/ {
    flush(); kind = $0; gsub(/\[|\]|[ \t]/, "", kind); next
  }
  /^\[/ { flush(); next }
  kind != "" && /^name[ \t]*=/ { name = quoted($0) }
  kind != "" && /^path[ \t]*=/ { path = quoted($0) }
  END { flush() }
' "$manifest" | while IFS= read -r path; do
  stub "$path"
done
