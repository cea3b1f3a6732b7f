//! Masking of secrets in everything a report shows.

use std::collections::BTreeMap;

use hyper::header::HeaderMap;

/// Header fields whose values are credentials: always masked, whatever the value.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];

const MASK: &str = "[secret]";

/// Replaces known secret values with `[secret]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        Redactor::default().with_secrets(&secrets.into_iter().collect::<Vec<_>>())
    }

    /// A redactor for default request headers (`--header`): credential headers' values, and
    /// their credentials without the scheme (`Bearer abc` also masks `abc`), become secrets.
    pub fn for_headers(headers: &[(String, String)]) -> Self {
        let mut secrets = Vec::new();
        for (name, value) in headers {
            if is_credential(name) {
                secrets.push(value.trim().to_owned());
                if let Some((_, credential)) = value.trim().split_once(' ') {
                    secrets.push(credential.trim().to_owned());
                }
            }
        }
        Redactor::new(secrets)
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
        let mut secrets = self.secrets.clone();
        for s in more {
            if !s.is_empty() && !secrets.contains(s) {
                secrets.push(s.clone());
            }
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { secrets }
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
    pub fn headers(&self, headers: &HeaderMap) -> BTreeMap<String, super::FieldValues> {
        let mut out: BTreeMap<String, super::FieldValues> = BTreeMap::new();
        for name in headers.keys() {
            let values: Vec<String> = headers
                .get_all(name)
                .iter()
                .map(|value| match is_credential(name.as_str()) {
                    true => MASK.to_owned(),
                    false => self.text(&String::from_utf8_lossy(value.as_bytes())),
                })
                .collect();
            let field = match <[String; 1]>::try_from(values) {
                Ok([one]) => super::FieldValues::One(one),
                Err(many) => super::FieldValues::Many(many),
            };
            out.insert(name.as_str().to_owned(), field);
        }
        out
    }
}

fn is_credential(name: &str) -> bool {
    CREDENTIAL_HEADERS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

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
