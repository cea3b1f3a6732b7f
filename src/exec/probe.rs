//! `contend probe`: finding out what a target can do before judging it, so scenarios it cannot
//! run are *not applicable* rather than failed.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderValue, ETAG, IF_MATCH, LAST_MODIFIED, RANGE};
use hyper::Method;

use super::Runner;
use crate::record::{Exchange, Outgoing};
use crate::scenario::{Capability, DeleteStyle, VersionRead, VersionSend};
use crate::validators::EntityTag;

/// What probing found: capabilities, and for each capability checked the evidence.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub capabilities: BTreeSet<Capability>,
    /// (capability, found, what the target answered)
    pub evidence: Vec<(Capability, bool, String)>,
    /// Other observations worth knowing (weak ETags, ...).
    pub notes: Vec<String>,
    /// The target gave no HTTP response at all: the first request and why.
    pub unreachable: Option<String>,
    /// The target answers, but nothing could be written and nothing existing was named (a
    /// wrong path prefix, a static file server): what was tried, and a hint.
    pub misconfigured: Option<String>,
    /// Where the evidence for a capability itself broke a rule: reported as a finding about
    /// the target, never turned into a missing capability.
    pub findings: Vec<crate::record::Finding>,
}

impl Probe {
    fn record(&mut self, capability: Capability, found: bool, evidence: String) {
        if found {
            self.capabilities.insert(capability);
        }
        self.evidence.push((capability, found, evidence));
    }
}

/// How long a probe waits for a weak ETag to turn strong (Apache httpd: about a second).
const WEAK_ETAG_PATIENCE: Duration = Duration::from_secs(3);

impl Runner {
    /// Probes the target under `scratch` (a path prefix no one else uses), cleaning up after.
    pub async fn probe(&self, scratch: &str) -> Probe {
        let mut probe = Probe::default();
        let path = match &self.settings.resource_path {
            // A flat namespace: the probe's resource is named like the scenarios' are.
            Some(template) => {
                let mut vars = crate::scenario::Vars::default();
                vars.set("scratch", scratch);
                vars.set("name", "probe");
                template
                    .render(&vars)
                    .unwrap_or_else(|_| format!("{}/probe", scratch.trim_end_matches('/')))
            }
            None => format!("{}/probe", scratch.trim_end_matches('/')),
        };
        if self.settings.resources.read_only {
            return self.probe_reads(probe).await;
        }
        let sample = "contend probe: 0123456789";
        // In the target's format, as the scenarios' bodies are.
        let body = match &self.settings.body_format {
            Some(format) => {
                let mut vars = crate::scenario::Vars::default();
                vars.set("body", sample);
                vars.set("scratch", scratch);
                vars.set("uuid", uuid::Uuid::new_v4().to_string());
                format
                    .render(&vars)
                    .unwrap_or_else(|_| format.as_str().replace("{{body}}", sample))
            }
            None => format!("{sample}\n"),
        };
        let body = body.as_str();
        if self.settings.create_scratch {
            let mkcol = hyper::Method::from_bytes(b"MKCOL").expect("a valid method");
            let made = self
                .probe_send(
                    mkcol,
                    &format!("{}/", scratch.trim_end_matches('/')),
                    &[],
                    "",
                )
                .await;
            probe
                .notes
                .push(format!("MKCOL {scratch}/ -> {}", outcome(&made)));
        }

        // The profile's way of making a resource, when it names one; else PUT to a new path.
        let (created, made, put_status) = match &self.settings.resources.create {
            Some(create) => {
                let made = self.probe_create(create, body, &mut probe).await;
                if probe.unreachable.is_some() {
                    return probe;
                }
                probe.record(
                    Capability::PutCreate,
                    false,
                    "not probed: the profile's create makes resources".into(),
                );
                (false, made, None)
            }
            None => {
                let put = self.probe_send(Method::PUT, &path, &[], body).await;
                if let Err(why) = &put.response {
                    probe.unreachable = Some(format!("PUT {}: {why}", put.request.url));
                    return probe;
                }
                let created = put.status().is_some_and(|s| (200..300).contains(&s));
                probe.record(
                    Capability::PutCreate,
                    created,
                    format!("PUT {} -> {}", put.request.url, outcome(&put)),
                );
                (created, None, put.status())
            }
        };
        let by_profile = made.is_some();
        let path = made.unwrap_or(path);
        if created {
            probe.capabilities.insert(Capability::Create);
        }
        if !created && !by_profile {
            if put_status == Some(409) && !self.settings.create_scratch {
                probe.notes.push(
                    "a 409 to a PUT usually means its parent collection is missing (WebDAV): \
                     set `create_scratch: true` in the profile"
                        .into(),
                );
            }
            probe
                .notes
                .push("without PUT nothing else can be probed; most scenarios need it".into());
            // A keyed endpoint (a profile's `idempotency:`) is something the scenarios write to.
            if self.settings.resources.existing.is_empty() && self.settings.keyed.is_none() {
                probe.misconfigured = Some(nothing_written(&probe, put_status));
            }
            return probe;
        }

        let get = self.probe_send(Method::GET, &path, &[], "").await;
        record_last_modified(&get, &mut probe);
        self.note_etag(&path, header(&get, ETAG), &mut probe).await;

        match (&self.settings.resource_path, by_profile) {
            // One segment per document: there are no collections to have parents.
            (Some(_), _) => probe.record(
                Capability::Collections,
                false,
                "not probed: a flat namespace (the profile's resource_path)".into(),
            ),
            (None, true) => probe.record(
                Capability::Collections,
                false,
                "not probed: resources are made by the profile's create".into(),
            ),
            (None, false) => self.probe_collections(scratch, &mut probe).await,
        }

        self.probe_beneath(&path, body, by_profile, &mut probe)
            .await;
        self.probe_rest(scratch, &path, body, &mut probe).await;
        probe
    }

    /// A tree of paths refuses a document beneath a document; a flat key space stores it.
    async fn probe_beneath(&self, path: &str, body: &str, by_profile: bool, probe: &mut Probe) {
        if by_profile {
            return probe.record(
                Capability::Hierarchy,
                false,
                "not probed: resources are made by the profile's create".into(),
            );
        }
        let beneath = format!("{path}/child");
        let child = self.probe_send(Method::PUT, &beneath, &[], body).await;
        let stored_beneath = child.status().is_some_and(|s| (200..300).contains(&s));
        probe.record(
            Capability::Hierarchy,
            !stored_beneath,
            format!(
                "PUT {} beneath a document -> {}",
                child.request.url,
                outcome(&child)
            ),
        );
        if stored_beneath {
            self.probe_send(Method::DELETE, &beneath, &[], "").await;
        }
    }

    /// Range, 428, DELETE, the example API and HTTP/2, once a resource exists at `path`.
    async fn probe_rest(&self, scratch: &str, path: &str, body: &str, probe: &mut Probe) {
        self.probe_range(path, probe).await;

        let again = self.probe_send(Method::PUT, path, &[], body).await;
        probe.record(
            Capability::RequiresPreconditions,
            again.status() == Some(428),
            format!(
                "unconditional PUT {} of an existing resource -> {}",
                again.request.url,
                outcome(&again)
            ),
        );

        // If-Match: * keeps the DELETE acceptable to a server that requires preconditions;
        // some servers refuse the star, so a refused one is followed by a plain DELETE. A
        // target whose DELETE needs the version (`delete: version`) gets it.
        let mut delete = match self.settings.resources.delete {
            Some(DeleteStyle::Version) => self.delete_versioned(path).await,
            _ => {
                self.probe_send(Method::DELETE, path, &[(IF_MATCH, "*")], "")
                    .await
            }
        };
        if delete
            .status()
            .is_some_and(|s| !(200..300).contains(&s) && s != 404)
        {
            let refused = outcome(&delete);
            // The resource exists (the PUT above stored it): `If-Match: *` is true, and a
            // 412 breaks the rule the star is for; the capability comes from the plain DELETE.
            if delete.status() == Some(412) && delete.request.headers.contains_key(IF_MATCH) {
                probe.findings.push(
                    self.settings.policy.finding(
                        Some("if-match.star-exists"),
                        crate::record::Check::Other {
                            subject: format!(
                                "the probe's DELETE {} with If-Match: * of an existing resource",
                                delete.request.url
                            ),
                            expected:
                                "the method performed (the star matches any current representation)"
                                    .into(),
                            actual: refused.clone(),
                        },
                        None,
                        Vec::new(),
                    ),
                );
            }
            delete = self.probe_send(Method::DELETE, path, &[], "").await;
            probe.notes.push(format!(
                "DELETE with If-Match: * was refused ({refused}); a plain DELETE -> {}",
                outcome(&delete)
            ));
        }
        let deleted = delete.status().is_some_and(|s| (200..300).contains(&s));
        probe.record(
            Capability::Delete,
            deleted,
            format!(
                "DELETE {}{} -> {}",
                delete.request.url,
                match delete.request.headers.get(IF_MATCH) {
                    Some(v) => format!(" with If-Match: {}", String::from_utf8_lossy(v.as_bytes())),
                    None => String::new(),
                },
                outcome(&delete)
            ),
        );
        if !deleted {
            probe
                .notes
                .push(format!("could not delete {path}: remove it by hand"));
        }

        if self.settings.create_scratch {
            let dir = format!("{}/", scratch.trim_end_matches('/'));
            self.probe_send(Method::DELETE, &dir, &[], "").await;
        }
        let api = self.probe_send(Method::GET, "/api/items", &[], "").await;
        let is_api = api.response.as_ref().is_ok_and(|r| {
            r.status == 200
                && serde_json::from_slice::<serde_json::Value>(&r.body).is_ok_and(|v| v.is_array())
        });
        probe.record(
            Capability::ExampleApi,
            is_api,
            format!("GET {} -> {}", api.request.url, outcome(&api)),
        );
        let keyed = self.probe_send(Method::GET, "/api/payments", &[], "").await;
        let is_keyed = keyed.response.as_ref().is_ok_and(|r| {
            r.status == 200
                && serde_json::from_slice::<serde_json::Value>(&r.body)
                    .is_ok_and(|v| v.get("count").is_some_and(|c| c.is_u64()))
        });
        probe.record(
            Capability::IdempotencyKey,
            is_keyed,
            format!("GET {} -> {}", keyed.request.url, outcome(&keyed)),
        );
        probe.record(
            Capability::IdempotencyKeyRequired,
            false,
            "not probed (a POST without the key would execute one): a profile's `capabilities` \
             says it"
                .to_owned(),
        );
        probe.record(
            Capability::IdempotencyKeyPerEndpoint,
            false,
            "not probed (a key's scope is the resource owner's choice, draft 2.2): a profile's \
             `capabilities` says it"
                .to_owned(),
        );
        let (http2, evidence) = self.probe_http2().await;
        probe.record(Capability::Http2, http2, evidence);
    }

    /// Collections, from evidence the rule does not judge: a `DAV:` compliance class in the
    /// answer to OPTIONS (RFC 4918 10.1), else MKCOL making one (9.3). Never from the answer to
    /// a PUT under a missing parent: that answer is what `put.missing-parent` judges, and a
    /// server that breaks the rule must be able to fail it.
    async fn probe_collections(&self, scratch: &str, probe: &mut Probe) {
        let here = format!("{}/", scratch.trim_end_matches('/'));
        let options = self.probe_send(Method::OPTIONS, &here, &[], "").await;
        let dav = header(&options, hyper::header::HeaderName::from_static("dav"));
        let class = dav
            .as_ref()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        if class
            .as_deref()
            .is_some_and(|v| v.split(',').any(|c| c.trim() == "1"))
        {
            return probe.record(
                Capability::Collections,
                true,
                format!(
                    "OPTIONS {} -> {}, DAV: {}",
                    options.request.url,
                    outcome(&options),
                    class.unwrap_or_default()
                ),
            );
        }
        let dir = format!("{here}contend-probe-collection/");
        let mkcol = Method::from_bytes(b"MKCOL").expect("a valid method");
        let made = self.probe_send(mkcol, &dir, &[], "").await;
        let created = made.status() == Some(201);
        probe.record(
            Capability::Collections,
            created,
            format!(
                "OPTIONS {} -> {}, no DAV class; MKCOL {} -> {}",
                options.request.url,
                outcome(&options),
                made.request.url,
                outcome(&made)
            ),
        );
        if created {
            self.probe_send(Method::DELETE, &dir, &[], "").await;
        }
    }

    /// Makes a resource the profile's way (`create:`), returning its path.
    async fn probe_create(
        &self,
        create: &crate::scenario::CreateBy,
        body: &str,
        probe: &mut Probe,
    ) -> Option<String> {
        let method = Method::from_bytes(create.method.0.as_bytes()).ok()?;
        let made = self
            .probe_send(method.clone(), create.path.as_str(), &[], body)
            .await;
        let response = made.response.as_ref().ok();
        let url = response.and_then(|r| match (&create.url.header, &create.url.json) {
            (Some(name), _) => r.header(name),
            (None, Some(query)) => {
                let doc: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
                let found = query.select(&doc)?;
                let found = found
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or(found.to_string());
                Some(match &create.url.path {
                    Some(path) => path.as_str().replace("{{id}}", &found),
                    None => found,
                })
            }
            (None, None) => None,
        });
        let created = response.is_some_and(|r| create.status.matches(r.status));
        probe.record(
            Capability::Create,
            created && url.is_some(),
            format!(
                "{method} {} (the profile's create) -> {}{}",
                made.request.url,
                outcome(&made),
                match &url {
                    Some(url) => format!(", the new resource at {url}"),
                    None => ", no URL for the new resource".into(),
                }
            ),
        );
        url.filter(|_| created)
    }

    /// Does a Range request get 206?
    async fn probe_range(&self, path: &str, probe: &mut Probe) {
        let range = self
            .probe_send(Method::GET, path, &[(RANGE, "bytes=0-3")], "")
            .await;
        probe.record(
            Capability::Range,
            range.status() == Some(206),
            format!(
                "GET {} with Range: bytes=0-3 -> {}",
                range.request.url,
                outcome(&range)
            ),
        );
    }

    /// Why the target gives no HTTP response at all, if it gives none to a GET of its URL.
    pub async fn unreachable(&self) -> Option<String> {
        let get = self.probe_send(Method::GET, "/", &[], "").await;
        get.response
            .err()
            .map(|why| format!("GET {}: {why}", get.request.url))
    }

    /// A read-only probe: what GETs of the profile's first `existing` resource show.
    async fn probe_reads(&self, mut probe: Probe) -> Probe {
        let not_probed = "not probed: the target is read-only";
        probe.record(Capability::PutCreate, false, not_probed.into());
        probe.record(Capability::Delete, false, not_probed.into());
        let Some(existing) = self.settings.resources.existing.first() else {
            // Nothing may be written and nothing is named to read: no scenario can judge.
            if let Some(why) = self.unreachable().await {
                probe.unreachable = Some(why);
                return probe;
            }
            probe.misconfigured = Some(
                "read-only, and the profile names no `existing:` resource: nothing can be \
                 written and nothing is there to read (docs/profiles.md, `existing:`)"
                    .into(),
            );
            return probe;
        };
        let path = existing.path.as_str().to_owned();
        let get = self.probe_send(Method::GET, &path, &[], "").await;
        if let Err(why) = &get.response {
            probe.unreachable = Some(format!("GET {}: {why}", get.request.url));
            return probe;
        }
        if let Some(status) = get.status().filter(|s| !(200..300).contains(s)) {
            probe.misconfigured = Some(format!(
                "the profile's existing resource answers GET {} -> {status}: check its path \
                 and the target URL's prefix",
                get.request.url
            ));
            return probe;
        }
        record_last_modified(&get, &mut probe);
        if header(&get, ETAG).is_none() {
            probe.notes.push(
                "GET carries no ETag: ETag scenarios will fail at their first capture".into(),
            );
        }
        self.probe_range(&path, &mut probe).await;
        let (http2, evidence) = self.probe_http2().await;
        probe.record(Capability::Http2, http2, evidence);
        probe
    }

    /// DELETE with the resource's current version, read and sent where the profile says.
    async fn delete_versioned(&self, path: &str) -> Exchange {
        let at = self.settings.resources.version.clone().unwrap_or_default();
        let read = self.probe_send(Method::GET, path, &[], "").await;
        let version = read.response.as_ref().ok().and_then(|r| match &at.read {
            VersionRead::Header(name) => r.header(name),
            VersionRead::Json(query) => serde_json::from_slice(&r.body)
                .ok()
                .and_then(|doc: serde_json::Value| query.select(&doc).cloned())
                .map(|v| v.as_str().map(str::to_owned).unwrap_or(v.to_string())),
        });
        let Some(version) = version else {
            return self.probe_send(Method::DELETE, path, &[], "").await;
        };
        match &at.send {
            VersionSend::Header(name) => {
                match hyper::header::HeaderName::from_bytes(name.as_bytes()) {
                    Ok(name) => {
                        self.probe_send(Method::DELETE, path, &[(name, &version)], "")
                            .await
                    }
                    Err(_) => self.probe_send(Method::DELETE, path, &[], "").await,
                }
            }
            VersionSend::Query(name) => {
                let sep = if path.contains('?') { '&' } else { '?' };
                let versioned = format!("{path}{sep}{name}={version}");
                self.probe_send(Method::DELETE, &versioned, &[], "").await
            }
            VersionSend::Json(name) => {
                let body = serde_json::json!({ name.as_str(): version }).to_string();
                self.probe_send(Method::DELETE, path, &[], &body).await
            }
        }
    }

    async fn note_etag(&self, path: &str, etag: Option<HeaderValue>, probe: &mut Probe) {
        let Some(etag) = etag else {
            probe.notes.push(
                "GET carries no ETag: ETag scenarios will fail at their first capture".into(),
            );
            return;
        };
        let parsed = EntityTag::parse(etag.as_bytes());
        if !parsed.as_ref().is_ok_and(|t| t.weak) {
            return;
        }
        // Weak right after a write (Apache marks ETags weak while the mtime is this second).
        let waited = std::time::Instant::now();
        while waited.elapsed() < WEAK_ETAG_PATIENCE {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let get = self.probe_send(Method::GET, path, &[], "").await;
            let tag = get.response.ok().and_then(|r| {
                r.headers
                    .get(ETAG)
                    .and_then(|v| EntityTag::parse(v.as_bytes()).ok())
            });
            if tag.is_some_and(|t| !t.weak) {
                probe.notes.push(format!(
                    "ETags are weak for about {:.1} s after a write, then strong: scenarios wait for strong tags",
                    waited.elapsed().as_secs_f64()
                ));
                return;
            }
        }
        // Said once for the run: no scenario waits for a strong tag again.
        self.set_weak_only();
        probe.notes.push(
            "ETags stay weak: If-Match must then fail (strong comparison), and scenarios judge \
             that; only what needs a strong tag (If-Range) is not applicable"
                .into(),
        );
    }

    async fn probe_http2(&self) -> (bool, String) {
        let url = self.target.url.clone();
        // Over TLS the version ALPN negotiated says it all; in the clear, ask for h2c. (Our TLS
        // configuration, not reqwest's default, which would read the system's root store.)
        let answered = match super::tls::with_alpn(&[b"h2"]) {
            _ if url.scheme() == "https" => self.client.get(url).send().await.map(|r| r.version()),
            Ok(tls) => {
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(self.settings.timeout)
                    .http2_prior_knowledge()
                    .use_preconfigured_tls(tls)
                    .build();
                match client {
                    Ok(h2) => h2.get(url).send().await.map(|r| r.version()),
                    Err(e) => Err(e),
                }
            }
            Err(e) => return (false, format!("no HTTP/2 ({e})")),
        };
        match answered {
            Ok(version) if version == reqwest::Version::HTTP_2 => {
                (true, "answered over HTTP/2".into())
            }
            Ok(version) => (false, format!("answered over {version:?}")),
            Err(e) => (
                false,
                format!("no HTTP/2 ({})", super::describe(&e, self.settings.timeout)),
            ),
        }
    }

    async fn probe_send(
        &self,
        method: Method,
        path: &str,
        extra: &[(hyper::header::HeaderName, &str)],
        body: &str,
    ) -> Exchange {
        let url = match self.resolve(path) {
            Ok(url) => url,
            Err(_) => self.target.url.clone(),
        };
        let mut headers = self.default_headers.clone();
        for (name, value) in extra {
            headers.insert(
                name.clone(),
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
            );
        }
        if let (false, Some(ct)) = (body.is_empty(), &self.settings.content_type) {
            if let Ok(value) = HeaderValue::from_str(ct) {
                headers.insert(hyper::header::CONTENT_TYPE, value);
            }
        }
        let outgoing = Outgoing {
            method,
            url,
            headers,
            body: Bytes::from(body.to_owned()),
            timeout: self.settings.timeout,
            raw: false,
            max_body: self.settings.max_body,
            version_member: None,
        };
        let mut exchange = self.send(outgoing).await;
        exchange.own_headers();
        exchange
    }
}

/// Why a target where nothing could be written cannot be tested, with a hint for the status.
fn nothing_written(probe: &Probe, status: Option<u16>) -> String {
    let tried = probe
        .evidence
        .iter()
        .rev()
        .find(|(c, _, _)| matches!(c, Capability::PutCreate | Capability::Create))
        .map(|(_, _, evidence)| evidence.as_str())
        .unwrap_or("a write");
    let hint = match status {
        Some(404) => "a 404 to a write usually means a wrong path prefix in the target URL",
        Some(401 | 403) => {
            "the target refused the write: credentials (--header, a profile's `headers`)?"
        }
        Some(409) => {
            "a WebDAV server wants the parent collection: `create_scratch: true` in the profile"
        }
        Some(405 | 501) => {
            "the target does not take PUT: a profile's `create:` (POST to a collection), or \
             `existing:` resources with --read-only"
        }
        _ => {
            "a profile's `create:` says how the target makes resources; `existing:` with \
              --read-only tests one that is there"
        }
    };
    format!(
        "nothing could be written ({tried}) and the profile names no `existing:` resource to \
         read; {hint}"
    )
}

/// A header of the response, if there was one.
fn header(e: &Exchange, name: hyper::header::HeaderName) -> Option<HeaderValue> {
    e.response
        .as_ref()
        .ok()
        .and_then(|r| r.headers.get(name).cloned())
}

/// What a plain GET shows of Last-Modified.
fn record_last_modified(get: &Exchange, probe: &mut Probe) {
    let last_modified = header(get, LAST_MODIFIED);
    probe.record(
        Capability::LastModified,
        last_modified.is_some(),
        format!(
            "GET {} -> {}{}",
            get.request.url,
            outcome(get),
            shown("Last-Modified", last_modified.as_ref())
        ),
    );
}

fn outcome(e: &Exchange) -> String {
    match &e.response {
        Ok(r) => r.status.to_string(),
        Err(why) => format!("no response ({why})"),
    }
}

fn shown(name: &str, value: Option<&HeaderValue>) -> String {
    match value {
        Some(v) => format!(", {name}: {}", String::from_utf8_lossy(v.as_bytes())),
        None => format!(", no {name}"),
    }
}
