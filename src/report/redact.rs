//! Masking of secrets in everything a report shows.

use hyper::header::HeaderMap;

const MASK: &str = "[secret]";

/// Replaces known secret values with `[secret]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is masked whole; each in the forms it
    /// travels in (raw, percent-encoded, base64).
    secrets: Vec<String>,
    /// Header names the profile marks secret (`secret_headers:`), lower-case.
    secret_headers: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        Redactor::default().with_secrets(&secrets.into_iter().collect::<Vec<_>>())
    }

    /// A redactor for default request headers (`--header`): credential headers' values, and
    /// their credentials without the scheme (`Bearer abc` also masks `abc`; a Basic one its
    /// decoded `user:password` and password), become secrets.
    pub fn for_headers(headers: &[(String, String)]) -> Self {
        Redactor::default().with_headers(headers)
    }

    fn with_headers(&self, headers: &[(String, String)]) -> Self {
        let mut secrets = Vec::new();
        for (name, value) in headers {
            if self.is_secret_header(name) {
                secrets.push(value.trim().to_owned());
                if let Some((scheme, credential)) = value.trim().split_once(' ') {
                    secrets.push(credential.trim().to_owned());
                    if scheme.eq_ignore_ascii_case("basic") {
                        secrets.extend(basic_credentials(credential.trim()));
                    }
                }
            }
        }
        self.with_secrets(&secrets)
    }

    /// Everything a run's settings say is secret: credential headers and the profile's
    /// `secret_headers`, header values built from `{{env.*}}`, the query sent with every
    /// request, and the password in the target URL.
    pub fn for_settings(settings: &crate::plan::Settings, target: &url::Url) -> Self {
        let names = Redactor {
            secret_headers: settings
                .secret_headers
                .iter()
                .map(|n| n.to_ascii_lowercase())
                .collect(),
            ..Redactor::default()
        };
        let mut userinfo = Vec::new();
        if let Some(password) = target.password() {
            userinfo.push(password.to_owned());
            let decoded: String = url::form_urlencoded::parse(format!("x={password}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect();
            userinfo.push(decoded);
        }
        names
            .with_headers(&settings.headers)
            .with_secrets(&settings.secrets)
            .with_secrets(&userinfo)
            .with_query(settings.query.as_deref())
            .with_query(target.query())
    }

    /// The same, with the values of a query string sent with every request masked too (raw
    /// and percent-decoded): a signed URL's signature is a credential.
    pub fn with_query(&self, query: Option<&str>) -> Redactor {
        let mut values = Vec::new();
        for pair in query.unwrap_or_default().split('&') {
            let value = pair.split_once('=').map_or(pair, |(_, v)| v);
            if value.len() >= 4 {
                values.push(value.to_owned());
                let decoded: String = url::form_urlencoded::parse(format!("x={value}").as_bytes())
                    .map(|(_, v)| v.into_owned())
                    .collect();
                values.push(decoded);
            }
        }
        self.with_secrets(&values)
    }

    pub fn with_secrets(&self, more: &[String]) -> Redactor {
        use base64::Engine;
        let mut secrets = self.secrets.clone();
        for s in more.iter().filter(|s| !s.is_empty()) {
            // The forms a value travels in: raw, percent-encoded in a URL or a form, base64.
            let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            let json = serde_json::to_string(s).unwrap_or_default();
            let mut forms = vec![
                s.clone(),
                in_path(s),
                encoded.replace('+', "%20"),
                encoded,
                json[1..json.len().saturating_sub(1).max(1)].to_owned(),
                base64::engine::general_purpose::STANDARD.encode(s),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
            ];
            forms.extend(base64_inside(s.as_bytes()));
            for form in forms.into_iter().filter(|f| !f.is_empty()) {
                if !secrets.contains(&form) {
                    secrets.push(form);
                }
            }
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor {
            secrets,
            secret_headers: self.secret_headers.clone(),
        }
    }

    fn is_secret_header(&self, name: &str) -> bool {
        crate::record::is_credential(name)
            || self
                .secret_headers
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// Header fields for a report: names lower-cased, a field sent on several lines kept as
    /// its several values.
    pub fn headers(&self, headers: &HeaderMap) -> super::HeaderFields {
        let mut out = Vec::with_capacity(headers.keys_len());
        for name in headers.keys() {
            let values: Vec<String> = headers
                .get_all(name)
                .iter()
                .map(|value| match self.is_secret_header(name.as_str()) {
                    true => MASK.to_owned(),
                    false => self.text(&String::from_utf8_lossy(value.as_bytes())),
                })
                .collect();
            let field = match <[String; 1]>::try_from(values) {
                Ok([one]) => super::FieldValues::One(one),
                Err(many) => super::FieldValues::Many(many),
            };
            out.push((name.as_str().to_owned(), field));
        }
        out.into_iter().collect()
    }
}

/// What a secret looks like base64-encoded inside a larger value (a token in a JSON document
/// that is then base64-encoded, a Basic credential's password): at each of the three offsets
/// it may start at within the encoded bytes, the characters that depend on the secret's bytes
/// alone, in the standard and the URL-safe alphabets. Only where that is 8 characters or more,
/// so short values never mask ordinary text.
fn base64_inside(secret: &[u8]) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    for offset in 0..3 {
        // Bytes before the secret fill the first group; a group is 3 bytes, 4 characters.
        let padded: Vec<u8> = std::iter::repeat_n(0, offset)
            .chain(secret.iter().copied())
            .collect();
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&padded);
        let first_group = offset.div_ceil(3);
        let whole_groups = (offset + secret.len()) / 3;
        if whole_groups <= first_group {
            continue;
        }
        let core = &encoded[first_group * 4..whole_groups * 4];
        if core.len() >= 8 {
            out.push(core.to_owned());
            out.push(core.replace('+', "-").replace('/', "_"));
        }
    }
    out
}

/// `value` as a URL path percent-encodes it (a secret in `{{scratch}}/{{token}}`).
fn in_path(value: &str) -> String {
    let mut url = url::Url::parse("http://x/").expect("a URL");
    url.set_path(&format!("/{value}"));
    url.path()[1..].to_owned()
}

/// `user:password` and the password of a Basic credential.
fn basic_credentials(encoded: &str) -> Vec<String> {
    use base64::Engine;
    let Some(decoded) = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return Vec::new();
    };
    let password = decoded.split_once(':').map(|(_, p)| p.to_owned());
    std::iter::once(decoded).chain(password).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_found_in_the_forms_it_travels_in() {
        use base64::Engine;
        let secret = "s3cr3t-Value+/&\"é";
        let r = Redactor::new([secret.to_owned()]);
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for prefix in ["", "a", "ab", "{\"token\":\""] {
            for engine in &engines {
                let blob = engine.encode(format!("{prefix}{secret}\",\"more\":1}}"));
                let shown = r.text(&format!("got {blob}"));
                let left = shown.replace(MASK, "");
                // What is left cannot be decoded back to the secret.
                assert!(
                    !left.contains(&engine.encode(secret)),
                    "{prefix:?}: {shown}"
                );
                assert!(shown.contains(MASK), "{prefix:?}: {shown}");
            }
        }
        let json = serde_json::to_string(&serde_json::json!({ "echo": secret })).unwrap();
        assert!(!r.text(&json).contains("s3cr3t"), "{}", r.text(&json));
        // A short value masks nothing but itself.
        let short = Redactor::new(["abc".to_owned()]);
        assert_eq!(short.text("YWJj abcd"), "[secret] [secret]d");
    }

    #[test]
    fn masks_credentials_and_secret_values() {
        let r = Redactor::for_headers(&[("Authorization".into(), "Bearer tok123".into())]);
        assert_eq!(
            r.text("echo: tok123 / Bearer tok123"),
            "echo: [secret] / [secret]"
        );
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=b".parse().unwrap());
        headers.insert("x-trace", "tok123-7".parse().unwrap());
        let shown = r.headers(&headers);
        assert_eq!(shown["cookie"].joined(), "[secret]");
        assert_eq!(shown["x-trace"].joined(), "[secret]-7");
        let mut twice = HeaderMap::new();
        twice.append("etag", "\"a\"".parse().unwrap());
        twice.append("etag", "\"b\"".parse().unwrap());
        let kept = r.headers(&twice);
        assert_eq!(
            kept["etag"],
            super::super::FieldValues::Many(vec!["\"a\"".into(), "\"b\"".into()])
        );
    }
}
