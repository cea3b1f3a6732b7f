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
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(_) => return Err(format!("target {url:?} must be an http:// or https:// URL")),
            Err(e) => return Err(format!("target {url:?} is not a URL: {e}")),
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
