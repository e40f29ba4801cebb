//! `Scanner`: a strict reader of JSON text that accepts only what `serde_json` accepts and reads
//! it as `serde_json` does, for the fast readers that copy most of an answer as it is.
//!
//! It is stricter, never looser: whatever it is not sure of (a body that is not UTF-8 as a
//! whole, nesting deeper than [`MAX_DEPTH`], an object holding a name twice, anything outside
//! JSON's grammar) gives `None`, and the fast reader gives way to the `Value` path. Strings
//! without escapes and whole numbers of up to 18 digits are passed on as their bytes (they are
//! what `serde_json` would write for them); strings with escapes and other numbers are read,
//! and written, by `serde_json` itself.

use serde_json::Number;

/// The deepest nesting read (`serde_json` refuses 128 levels).
pub const MAX_DEPTH: usize = 100;

/// The most members one object may have here (names are compared pairwise to find one given
/// twice).
const MAX_MEMBERS: usize = 256;

/// A string read: its bytes when it had no escapes, else its text as `serde_json` reads it.
#[derive(Clone, Debug)]
pub enum Str<'a> {
    /// Valid UTF-8 (the whole body is), without quotes, backslashes or control characters.
    Raw(&'a [u8]),
    /// The text of a string with escapes.
    Unescaped(String),
}

impl Str<'_> {
    /// The text's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Str::Raw(bytes) => bytes,
            Str::Unescaped(text) => text.as_bytes(),
        }
    }

    /// Writes the string as `serde_json` writes its text.
    pub fn write(&self, out: &mut Vec<u8>) -> Option<()> {
        match self {
            Str::Raw(bytes) => {
                out.push(b'"');
                out.extend_from_slice(bytes);
                out.push(b'"');
                Some(())
            }
            Str::Unescaped(text) => serde_json::to_writer(out, text).ok(),
        }
    }
}

/// A number read: its bytes when `serde_json` would write them back as they are, else its value.
#[derive(Clone, Debug)]
pub enum Num<'a> {
    /// `0`, or up to 18 digits without a leading zero, maybe after a `-` (not `-0`).
    Whole(&'a [u8]),
    /// Any other number, as `serde_json` reads it.
    Read(Number),
}

impl Num<'_> {
    /// Writes the number as `serde_json` writes it.
    pub fn write(&self, out: &mut Vec<u8>) -> Option<()> {
        match self {
            Num::Whole(bytes) => {
                out.extend_from_slice(bytes);
                Some(())
            }
            Num::Read(number) => serde_json::to_writer(out, number).ok(),
        }
    }
}

/// The kind of the next value, from its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// Reads JSON text from a body that is UTF-8 as a whole.
pub struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
    /// The names of the objects being read, outermost first (to find one given twice).
    names: Vec<Str<'a>>,
}

impl<'a> Scanner<'a> {
    /// A scanner of `body`, or `None` when the body is not UTF-8 (a string of it would not be).
    pub fn new(body: &'a [u8]) -> Option<Scanner<'a>> {
        std::str::from_utf8(body).ok()?;
        Some(Scanner {
            bytes: body,
            at: 0,
            depth: 0,
            names: Vec::new(),
        })
    }

    /// Whether only blanks are left.
    pub fn at_end(&mut self) -> bool {
        self.skip_blanks();
        self.at == self.bytes.len()
    }

    fn skip_blanks(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_blanks();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The kind of the next value.
    pub fn kind(&mut self) -> Option<Kind> {
        Some(match self.peek()? {
            b'n' => Kind::Null,
            b't' | b'f' => Kind::Bool,
            b'-' | b'0'..=b'9' => Kind::Number,
            b'"' => Kind::String,
            b'[' => Kind::Array,
            b'{' => Kind::Object,
            _ => return None,
        })
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at.checked_add(word.len())?;
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Reads `null`.
    pub fn null(&mut self) -> Option<()> {
        self.skip_blanks();
        self.word(b"null")
    }

    /// Reads `true` or `false`.
    pub fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.word(b"true").map(|()| true),
            _ => self.word(b"false").map(|()| false),
        }
    }

    /// Reads a string.
    pub fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let start = self.at;
        let mut escaped = false;
        loop {
            self.at = plain_until(self.bytes, self.at);
            match self.bytes.get(self.at)? {
                b'"' => break,
                // The byte after a backslash is escaped (the digits of `\u` are plain bytes).
                b'\\' => {
                    escaped = true;
                    self.at += 2;
                }
                // JSON allows no control character in a string, as `serde_json` checks.
                _ => return None,
            }
        }
        let text = self.bytes.get(start..self.at)?;
        self.at += 1;
        if !escaped {
            return Some(Str::Raw(text));
        }
        // With its quotes: `serde_json` checks the escapes and reads the text.
        let quoted = self.bytes.get(start - 1..self.at)?;
        serde_json::from_slice(quoted).ok().map(Str::Unescaped)
    }

    /// Reads a number.
    pub fn number(&mut self) -> Option<Num<'a>> {
        self.skip_blanks();
        let start = self.at;
        let negative = self.bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        match self.bytes.get(self.at)? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let whole_end = self.at;
        let mut plain = true;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            self.some_digits()?;
            plain = false;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            self.some_digits()?;
            plain = false;
        }
        let text = self.bytes.get(start..self.at)?;
        let digits = whole_end - start - usize::from(negative);
        if plain && digits <= 18 && text != b"-0" {
            return Some(Num::Whole(text));
        }
        serde_json::from_slice(text).ok().map(Num::Read)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    fn enter(&mut self, open: u8) -> Option<()> {
        self.eat(open)?;
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Reads an array, each item by `item` (which must read exactly one value).
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter(b'[')?;
        if self.eat(b']').is_none() {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Reads an object, each member by `member`, given its name (and which must read exactly
    /// its value). A name given twice gives `None`.
    pub fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &Str<'a>) -> Option<()>,
    ) -> Option<()> {
        let first = self.names.len();
        self.members(|scanner, name| {
            let names = scanner.names.get(first..)?;
            if names.len() >= MAX_MEMBERS || names.iter().any(|seen| same(seen, &name)) {
                return None;
            }
            scanner.names.push(name.clone());
            member(scanner, &name)
        })?;
        self.names.truncate(first);
        Some(())
    }

    /// Reads an object, each member by `member`, which must itself refuse a name given twice
    /// (see [`Names`]).
    pub fn members(
        &mut self,
        mut member: impl FnMut(&mut Self, Str<'a>) -> Option<()>,
    ) -> Option<()> {
        self.enter(b'{')?;
        if self.eat(b'}').is_none() {
            loop {
                let name = self.string()?;
                self.eat(b':')?;
                member(self, name)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Reads any value and writes it as `serde_json` writes it once its `null`s are pruned;
    /// whether it wrote anything (a `null` is left out by whoever holds it).
    pub fn copy(&mut self, out: &mut Vec<u8>) -> Option<bool> {
        match self.kind()? {
            Kind::Null => {
                self.null()?;
                return Some(false);
            }
            Kind::Bool => {
                let flag = self.bool()?;
                out.extend_from_slice(if flag { b"true" } else { b"false" });
            }
            Kind::Number => self.number()?.write(out)?,
            Kind::String => self.string()?.write(out)?,
            Kind::Array => {
                out.push(b'[');
                let mut first = true;
                self.array(|scanner| {
                    let mark = out.len();
                    if !first {
                        out.push(b',');
                    }
                    if scanner.copy(out)? {
                        first = false;
                    } else {
                        out.truncate(mark);
                    }
                    Some(())
                })?;
                out.push(b']');
            }
            Kind::Object => {
                out.push(b'{');
                let mut first = true;
                self.object(|scanner, name| {
                    let written = copy_member(scanner, out, name, !first)?;
                    first &= !written;
                    Some(())
                })?;
                out.push(b'}');
            }
        }
        Some(true)
    }
}

/// The names of an object read with [`Scanner::members`], to refuse one given twice: those the
/// reader knows as bits, the others as read.
#[derive(Default)]
pub struct Names<'a> {
    known: u64,
    other: Vec<Str<'a>>,
}

impl<'a> Names<'a> {
    /// Forgets the last object's names, keeping the room they took.
    pub fn clear(&mut self) {
        self.known = 0;
        self.other.clear();
    }

    /// The known name number `bit` (below 64); `None` the second time.
    pub fn known(&mut self, bit: u32) -> Option<()> {
        let flag = 1u64.checked_shl(bit)?;
        if self.known & flag != 0 {
            return None;
        }
        self.known |= flag;
        Some(())
    }

    /// A name the reader does not know; `None` the second time.
    pub fn other(&mut self, name: &Str<'a>) -> Option<()> {
        if self.other.len() >= MAX_MEMBERS || self.other.iter().any(|seen| same(seen, name)) {
            return None;
        }
        self.other.push(name.clone());
        Some(())
    }
}

/// Reads a member's value and writes `"name":value` (after a comma when `after_another`), or
/// nothing when the value is `null`; whether it wrote it.
pub fn copy_member(
    scanner: &mut Scanner<'_>,
    out: &mut Vec<u8>,
    name: &Str<'_>,
    after_another: bool,
) -> Option<bool> {
    let mark = out.len();
    if after_another {
        out.push(b',');
    }
    name.write(out)?;
    out.push(b':');
    let written = scanner.copy(out)?;
    if !written {
        out.truncate(mark);
    }
    Some(written)
}

/// Whether two names are the same (their first bytes compared first: most differ there).
fn same(one: &Str<'_>, other: &Str<'_>) -> bool {
    let (one, other) = (one.bytes(), other.bytes());
    one.len() == other.len() && one.first() == other.first() && one == other
}

/// The index of the first quote, backslash or control character of `bytes` from `at` on (or the
/// length): eight bytes at a time, as `serde_json` looks for them.
fn plain_until(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let Ok(chunk) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let word = u64::from_le_bytes(chunk);
        let control = word.wrapping_sub(ONES * 0x20) & !word;
        let quote = word ^ (ONES * u64::from(b'"'));
        let quote = quote.wrapping_sub(ONES) & !quote;
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let backslash = backslash.wrapping_sub(ONES) & !backslash;
        // The lowest flagged byte is the first one found (those above it may be false alarms).
        let found = (control | quote | backslash) & HIGH;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(byte) = bytes.get(at) {
        if matches!(byte, b'"' | b'\\') || *byte < 0x20 {
            return at;
        }
        at += 1;
    }
    at
}
