//! Entity tags and HTTP dates (RFC 9110 sections 8.8 and 5.6.7): the one place that parses them.
//!
//! The reference server, the judge and the history checks all compare validators; they all
//! come here, so "two modules parse an ETag differently" cannot happen.

use std::fmt;
use std::time::SystemTime;

/// An entity tag: `"opaque"` (strong) or `W/"opaque"` (weak).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityTag {
    pub weak: bool,
    /// The opaque part without its quotes. Bytes, because obs-text (%x80-FF) is allowed.
    pub opaque: Vec<u8>,
}

/// Why a header value is not a valid entity tag or list of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

impl EntityTag {
    pub fn strong(opaque: impl Into<Vec<u8>>) -> Self {
        EntityTag {
            weak: false,
            opaque: opaque.into(),
        }
    }

    /// Parses exactly one entity tag, nothing before or after it.
    pub fn parse(value: &[u8]) -> Result<Self, SyntaxError> {
        let mut cursor = Cursor {
            bytes: value,
            pos: 0,
        };
        let tag = cursor.entity_tag()?;
        if cursor.pos != value.len() {
            return Err(SyntaxError(format!(
                "unexpected {:?} after the closing quote",
                String::from_utf8_lossy(&value[cursor.pos..])
            )));
        }
        Ok(tag)
    }

    /// Strong comparison (8.8.3.2): both strong and the same opaque bytes.
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison (8.8.3.2): the same opaque bytes, weakness ignored.
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque == other.opaque
    }

    /// The same tag marked weak: `W/"opaque"`.
    pub fn to_weak(&self) -> EntityTag {
        EntityTag {
            weak: true,
            opaque: self.opaque.clone(),
        }
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.weak { "W/" } else { "" };
        write!(f, "{prefix}\"{}\"", String::from_utf8_lossy(&self.opaque))
    }
}

/// The value of If-Match or If-None-Match: `*` or a list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagList {
    Any,
    Tags(Vec<EntityTag>),
}

impl TagList {
    /// Parses every field line of the header as one list (5.3: lines combine with commas).
    /// A `*` must stand alone.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, SyntaxError> {
        let mut tags = Vec::new();
        let mut saw_any = false;
        for line in lines {
            let mut cursor = Cursor {
                bytes: line,
                pos: 0,
            };
            loop {
                cursor.skip_ows_and_commas();
                if cursor.at_end() {
                    break;
                }
                if cursor.peek() == Some(b'*') {
                    cursor.pos += 1;
                    saw_any = true;
                } else {
                    tags.push(cursor.entity_tag()?);
                }
                cursor.skip_ows();
                match cursor.peek() {
                    None | Some(b',') => {}
                    Some(other) => {
                        return Err(SyntaxError(format!(
                            "expected a comma between entity tags, found {:?}",
                            other as char
                        )))
                    }
                }
            }
        }
        match (saw_any, tags.is_empty()) {
            (true, true) => Ok(TagList::Any),
            (true, false) => Err(SyntaxError(
                "`*` cannot be combined with entity tags".into(),
            )),
            (false, false) => Ok(TagList::Tags(tags)),
            (false, true) => Err(SyntaxError("empty list of entity tags".into())),
        }
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }
    fn skip_ows_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }
    fn entity_tag(&mut self) -> Result<EntityTag, SyntaxError> {
        let weak = self.bytes[self.pos..].starts_with(b"W/");
        if weak {
            self.pos += 2;
        }
        if self.peek() != Some(b'"') {
            return Err(SyntaxError(
                "an entity tag starts with a double quote (or W/ then a double quote)".into(),
            ));
        }
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(SyntaxError("entity tag has no closing double quote".into())),
                Some(b'"') => break,
                // etagc = %x21 / %x23-7E / obs-text
                Some(0x21 | 0x23..=0x7E | 0x80..=0xFF) => self.pos += 1,
                Some(c) => {
                    return Err(SyntaxError(format!(
                        "byte 0x{c:02X} is not allowed inside an entity tag"
                    )))
                }
            }
        }
        let opaque = self.bytes[start..self.pos].to_vec();
        self.pos += 1;
        Ok(EntityTag { weak, opaque })
    }
}

/// Parses any HTTP-date form a recipient must accept (IMF-fixdate, RFC 850, asctime).
pub fn parse_http_date(value: &[u8]) -> Option<SystemTime> {
    httpdate::parse_http_date(std::str::from_utf8(value).ok()?).ok()
}

/// True when the value is an IMF-fixdate exactly (the only form a sender may generate, 5.6.7).
pub fn is_imf_fixdate(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    // IMF-fixdate is the canonical form: it survives a parse/format round trip unchanged, and
    // is 29 bytes long. Formatted onto the stack: every response's dates are checked.
    if text.len() != IMF_FIXDATE_LEN {
        return false;
    }
    let Ok(date) = text.parse::<httpdate::HttpDate>() else {
        return false;
    };
    let mut formatted = [0u8; IMF_FIXDATE_LEN];
    use std::io::Write;
    write!(&mut formatted[..], "{date}").is_ok() && formatted == value
}

const IMF_FIXDATE_LEN: usize = "Sun, 06 Nov 1994 08:49:37 GMT".len();

/// Whether HTTP-date `a` is later than `b` (`None` when either is not an HTTP-date): compared
/// as dates, without a trip through the system clock's type.
pub fn date_later(a: &[u8], b: &[u8]) -> Option<bool> {
    let parse = |v: &[u8]| {
        std::str::from_utf8(v)
            .ok()?
            .parse::<httpdate::HttpDate>()
            .ok()
    };
    Some(parse(a)? > parse(b)?)
}

/// Formats an instant as an IMF-fixdate (whole seconds).
pub fn fmt_http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strong_and_weak_tags() {
        assert_eq!(
            EntityTag::parse(b"\"abc\"").unwrap(),
            EntityTag::strong("abc")
        );
        let weak = EntityTag::parse(b"W/\"abc\"").unwrap();
        assert!(weak.weak);
        assert_eq!(weak.to_string(), "W/\"abc\"");
    }

    #[test]
    fn rejects_malformed_tags() {
        for bad in [
            &b"abc"[..],
            b"\"a b\"",
            b"\"abc",
            b"w/\"abc\"",
            b"\"abc\" x",
            b"",
        ] {
            assert!(
                EntityTag::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn comparison_functions_follow_8_8_3_2() {
        let s1 = EntityTag::strong("1");
        let w1 = s1.to_weak();
        assert!(s1.strong_eq(&s1.clone()));
        assert!(!s1.strong_eq(&w1));
        assert!(!w1.strong_eq(&w1.clone()));
        assert!(w1.weak_eq(&s1));
        assert!(!s1.weak_eq(&EntityTag::strong("2")));
    }

    #[test]
    fn lists_allow_commas_inside_tags_and_across_lines() {
        let list = TagList::parse([&b"\"a,b\", W/\"c\""[..], b" ,\"d\""]).unwrap();
        let TagList::Tags(tags) = list else {
            panic!("expected tags")
        };
        let shown: Vec<String> = tags.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["\"a,b\"", "W/\"c\"", "\"d\""]);
        assert_eq!(TagList::parse([&b"*"[..]]).unwrap(), TagList::Any);
        assert!(TagList::parse([&b"*, \"a\""[..]]).is_err());
        assert!(TagList::parse([&b"\"a\" \"b\""[..]]).is_err());
    }

    #[test]
    fn imf_fixdate_is_strict() {
        assert!(is_imf_fixdate(b"Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(!is_imf_fixdate(b"Sunday, 06-Nov-94 08:49:37 GMT"));
        assert!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT").is_some());
        assert!(!is_imf_fixdate(b"2024-01-01T00:00:00Z"));
    }
}
