//! The server under test, as planning sees it: its URL and what it can do.

use std::collections::BTreeSet;

use crate::scenario::Capability;

/// The server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL; scenario paths are joined to it.
    pub url: reqwest::Url,
    /// What to call it in reports ("embedded reference server" or the URL).
    pub label: String,
    pub capabilities: BTreeSet<Capability>,
    /// Capabilities of a team's own the profile says the target has (`own_capabilities`).
    pub own_capabilities: BTreeSet<String>,
}

impl Target {
    /// A server given by URL. Without a capability list it is assumed to support everything
    /// but `requires-preconditions` and `collections` (modes a server must declare) and the
    /// reference server's example API.
    pub fn remote(url: &str, capabilities: Option<&[Capability]>) -> Result<Target, String> {
        let said = without_userinfo(url);
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(_) => {
                return Err(format!(
                    "target {said:?} must be an http:// or https:// URL"
                ))
            }
            Err(e) => return Err(format!("target {said:?} is not a URL: {e}")),
        };
        let capabilities = match capabilities {
            Some(list) => list.iter().copied().collect(),
            // A target by URL is not the reference server: no example API either. Modes a
            // server must declare (428, WebDAV collections) are not assumed.
            None => Capability::ALL
                .into_iter()
                .filter(|c| {
                    !matches!(
                        c,
                        Capability::RequiresPreconditions
                            | Capability::ExampleApi
                            | Capability::IdempotencyKey
                            | Capability::IdempotencyKeyRequired
                            | Capability::IdempotencyKeyPerEndpoint
                            | Capability::Collections
                            | Capability::Versions
                    )
                })
                .collect(),
        };
        Ok(Target {
            url: parsed,
            label: url.to_owned(),
            capabilities,
            own_capabilities: BTreeSet::new(),
        })
    }
}

/// A URL as an error may show it: whatever stands before an `@` in its authority (`user:password`)
/// is masked, whether or not the rest parses.
fn without_userinfo(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let authority_end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| after_scheme + at);
    match url[after_scheme..authority_end].rfind('@') {
        Some(at) => format!(
            "{}[secret]{}",
            &url[..after_scheme],
            &url[after_scheme + at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod userinfo_tests {
    #[test]
    fn an_invalid_target_url_is_shown_without_its_password() {
        let err = super::Target::remote("http://user:hunter2@exa mple.com/x", None).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("http://[secret]@exa mple.com/x"), "{err}");
        let err = super::Target::remote("ftp://u:hunter2@x/", None).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert_eq!(super::without_userinfo("http://x/a@b"), "http://x/a@b");
    }
}
