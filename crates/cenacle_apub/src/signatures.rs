//! HTTP Signatures (draft-cavage) with OpenSSL.
//!
//! Outgoing requests are signed here rather than by `activitypub_federation`, whose pure-Rust
//! RSA takes ≈3 ms a signature against ≈0.5 ms for OpenSSL: signing is the cost of fan-out
//! (DESIGN.md §7). The format is what Mastodon, Lemmy and NodeBB check: `rsa-sha256` over
//! `(request-target) host date digest` for POST and `(request-target) host date` for GET,
//! `Digest: SHA-256=<base64>`, keyId `<actor id>#main-key`.
//! Incoming POSTs (the inbox) and signed GETs (authorized fetch) are verified by [`verify`]
//! below, after [`check_strength`]: what we accept is what Mastodon accepts, listed in
//! docs/federation.md.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use openssl::{
    hash::MessageDigest,
    pkey::{PKey, Private, Public},
    sign::{Signer, Verifier},
};
use sha2::{Digest as _, Sha256, Sha512};
use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
    time::SystemTime,
};
use url::Url;

pub struct SigningKey {
    pub key_id: String,
    key: PKey<Private>,
}

impl SigningKey {
    /// The key of the actor `actor_id`, from its PKCS#8 (or PKCS#1) PEM.
    pub fn from_pem(actor_id: &str, pem: &str) -> Result<Self, String> {
        let key = PKey::private_key_from_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        Ok(Self {
            key_id: format!("{actor_id}#main-key"),
            key,
        })
    }

    /// The base64 RSA-SHA256 signature of a signing string.
    pub fn sign(&self, data: &str) -> Result<String, String> {
        let mut signer =
            Signer::new(MessageDigest::sha256(), &self.key).map_err(|e| e.to_string())?;
        signer.update(data.as_bytes()).map_err(|e| e.to_string())?;
        Ok(B64.encode(signer.sign_to_vec().map_err(|e| e.to_string())?))
    }
}

/// `SHA-256=<base64>`, exactly so (NodeBB compares the string).
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", B64.encode(Sha256::digest(body)))
}

/// The base64 digest of `body` by an RFC 3230 algorithm name, in any case (`SHA-256`,
/// `sha-256`, `SHA-512`); `None` for algorithms we do not accept.
pub fn digest_value(algorithm: &str, body: &[u8]) -> Option<String> {
    match algorithm.to_ascii_lowercase().as_str() {
        "sha-256" => Some(B64.encode(Sha256::digest(body))),
        "sha-512" => Some(B64.encode(Sha512::digest(body))),
        _ => None,
    }
}

/// Whether a received `Digest` header (RFC 3230) matches the body: any of its values, with
/// the algorithm named in any case (some servers send `sha-256=`), SHA-256 or SHA-512.
pub fn digest_matches(header: &str, body: &[u8]) -> bool {
    header.split(',').any(|part| {
        let Some((algorithm, value)) = part.trim().split_once('=') else {
            return false;
        };
        digest_value(algorithm.trim(), body).is_some_and(|expected| value.trim() == expected)
    })
}

/// A request's header as [`verify`] looks it up (lowercase names). A missing `Host` is
/// `local_host`: behind a proxy that drops or rewrites it, the signed host is our public one.
pub fn signed_header(
    headers: &axum::http::HeaderMap,
    local_host: &str,
    name: &str,
) -> Option<String> {
    let value = headers.get(name).and_then(|v| v.to_str().ok());
    match name {
        "host" => Some(value.unwrap_or(local_host).to_owned()),
        _ => value.map(str::to_owned),
    }
}

/// The `Host` header value for a URL: host, and port when not the scheme's default.
pub fn host_header(url: &Url) -> String {
    crate::http_client::host_of(url)
}

fn request_target(method: &str, url: &Url) -> String {
    let mut target = format!("{} {}", method.to_ascii_lowercase(), url.path());
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    target
}

/// Headers to add to a signed request: `Date`, `Digest` (with a body), `Signature`.
pub fn sign_request(
    key: &SigningKey,
    method: &str,
    url: &Url,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<Vec<(&'static str, String)>, String> {
    let date = httpdate::fmt_http_date(now);
    let host = host_header(url);
    let mut lines = vec![
        format!("(request-target): {}", request_target(method, url)),
        format!("host: {host}"),
        format!("date: {date}"),
    ];
    let mut names = "(request-target) host date".to_owned();
    let mut headers = vec![("Date", date)];
    if let Some(body) = body {
        let digest = digest_header(body);
        lines.push(format!("digest: {digest}"));
        names.push_str(" digest");
        headers.push(("Digest", digest));
    }
    let signature = key.sign(&lines.join("\n"))?;
    headers.push((
        "Signature",
        format!(
            r#"keyId="{}",algorithm="rsa-sha256",headers="{names}",signature="{signature}""#,
            key.key_id
        ),
    ));
    Ok(headers)
}

/// The parameters of a `Signature` header.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureParams {
    pub key_id: String,
    /// `algorithm=`, lowercased; absent means `hs2019` (draft-cavage 12, as Mastodon reads it).
    pub algorithm: Option<String>,
    pub headers: Vec<String>,
    pub signature: String,
    /// Unix times of draft-11 `(created)` / `(expires)`, which `activitypub_federation` signs
    /// instead of relying on `Date`.
    pub created: Option<u64>,
    pub expires: Option<u64>,
}

impl SignatureParams {
    /// Whether the signature is recent: its `(created)` time, or else the signed `Date`, within
    /// `max_skew_secs` of now, and its `(expires)` not past.
    pub fn is_fresh(&self, date_header: Option<&str>, now: SystemTime, max_skew_secs: u64) -> bool {
        let unix_now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.expires.is_some_and(|expires| expires + 60 < unix_now) {
            return false;
        }
        match (self.created, date_header) {
            (Some(created), _) if self.headers.iter().any(|h| h == "(created)") => {
                created.abs_diff(unix_now) <= max_skew_secs
            }
            (_, Some(date)) if self.headers.iter().any(|h| h == "date") => {
                date_is_fresh(date, now, max_skew_secs)
            }
            _ => false,
        }
    }
}

pub fn parse_signature(header: &str) -> Option<SignatureParams> {
    let mut fields = HashMap::new();
    for part in split_params(header) {
        let (name, value) = part.split_once('=')?;
        fields.insert(
            name.trim().to_ascii_lowercase(),
            value.trim().trim_matches('"').to_owned(),
        );
    }
    let algorithm = fields.remove("algorithm").map(|a| a.to_ascii_lowercase());
    // What is signed when `headers` is absent (draft-cavage; Mastodon reads it so).
    let default_headers = if algorithm.as_deref() == Some("rsa-sha256") {
        "date"
    } else {
        "(created)"
    };
    Some(SignatureParams {
        key_id: fields.remove("keyid")?,
        algorithm,
        headers: fields
            .remove("headers")
            .unwrap_or_else(|| default_headers.into())
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect(),
        signature: fields.remove("signature")?,
        created: fields.remove("created").and_then(|v| v.parse().ok()),
        expires: fields.remove("expires").and_then(|v| v.parse().ok()),
    })
}

/// Splits on commas outside quotes (the base64 signature has no comma, but be strict anyway).
fn split_params(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in header.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

/// The actor id a key id belongs to: the part before `#` (Mastodon, Lemmy), or before a
/// trailing `/main-key` (GoToSocial).
pub fn key_owner(key_id: &str) -> &str {
    let without_fragment = key_id.split('#').next().unwrap_or(key_id);
    without_fragment
        .strip_suffix("/main-key")
        .unwrap_or(without_fragment)
}

/// The algorithms we verify, both with an RSA key and SHA-256: `rsa-sha256` (Mastodon signs
/// so) and `hs2019` (the federation library, GoToSocial; the key decides, and all of them
/// hold RSA keys).
const ALGORITHMS: [&str; 2] = ["rsa-sha256", "hs2019"];

/// Whether a signature covers enough of the request to be worth verifying, as Mastodon
/// requires: a known algorithm; `(request-target)` and `host` signed (else it could be
/// replayed to another path or server); `date` or `(created)` (else replayed forever); on a
/// POST `digest` (else another body could be sent under it). `(created)` and `(expires)`
/// belong to `hs2019` only.
pub fn check_strength(params: &SignatureParams, method: &str) -> Result<(), String> {
    let algorithm = params.algorithm.as_deref().unwrap_or("hs2019");
    if !ALGORITHMS.contains(&algorithm) {
        return Err(format!(
            "unsupported signature algorithm {algorithm} (rsa-sha256 and hs2019 are accepted)"
        ));
    }
    let signed = |name: &str| params.headers.iter().any(|h| h == name);
    for pseudo in ["(created)", "(expires)"] {
        if signed(pseudo) && algorithm != "hs2019" {
            return Err(format!(
                "{pseudo} is signed under {algorithm}: only hs2019 has it"
            ));
        }
    }
    let mut required = vec!["(request-target)", "host"];
    if method.eq_ignore_ascii_case("POST") {
        required.push("digest");
    }
    if let Some(missing) = required.into_iter().find(|name| !signed(name)) {
        return Err(format!("{missing} is not signed"));
    }
    if !signed("date") && !signed("(created)") {
        return Err("neither Date nor (created) is signed".into());
    }
    Ok(())
}

/// How many parsed public keys [`verify`] keeps: more than the senders of a busy burst (the
/// inbox benchmark's 1,000 people), a few MiB at most.
const PARSED_KEYS_CAP: usize = 2048;

/// Public keys parsed from their PEM, kept for the next request of the same signer: decoding
/// a PEM costs far more than the RSA verification itself (a quarter of the server's CPU per
/// inbound Like in the issue 9 profile, docs/benchmarks.md). Keyed by the PEM text itself,
/// so a rotated key (a new PEM under the same key id) is parsed anew and a key is only ever
/// used for the PEM it was read from. Bounded: when full, an arbitrary key makes room (a
/// sender dropped is parsed again at its next request). Shared by every request of the
/// process ([`verify`]); a PEM that does not parse is not kept.
pub struct ParsedKeys {
    cap: usize,
    keys: Mutex<HashMap<String, PKey<Public>>>,
}

impl ParsedKeys {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The key of `pem`, parsed once.
    pub fn get(&self, pem: &str) -> Result<PKey<Public>, String> {
        // A clone is a reference count; the lock is never held while parsing.
        if let Some(key) = self.lock().get(pem) {
            return Ok(key.clone());
        }
        let key = PKey::public_key_from_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        let mut keys = self.lock();
        if keys.len() >= self.cap && !keys.contains_key(pem) {
            if let Some(victim) = keys.keys().next().cloned() {
                keys.remove(&victim);
            }
        }
        keys.insert(pem.to_owned(), key.clone());
        Ok(key)
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PKey<Public>>> {
        // A panic elsewhere while holding it leaves a map of whole entries: still usable.
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

static PARSED_KEYS: LazyLock<ParsedKeys> = LazyLock::new(|| ParsedKeys::new(PARSED_KEYS_CAP));

/// Verifies a signed request given a header lookup (lowercase names), once
/// [`check_strength`] passes. The key is parsed from `public_key_pem` once per process
/// ([`ParsedKeys`]).
pub fn verify(
    params: &SignatureParams,
    method: &str,
    path_and_query: &str,
    header: impl Fn(&str) -> Option<String>,
    public_key_pem: &str,
) -> Result<(), String> {
    verify_with(
        &PARSED_KEYS,
        params,
        method,
        path_and_query,
        header,
        public_key_pem,
    )
}

/// [`verify`], the key read through `keys`.
pub fn verify_with(
    keys: &ParsedKeys,
    params: &SignatureParams,
    method: &str,
    path_and_query: &str,
    header: impl Fn(&str) -> Option<String>,
    public_key_pem: &str,
) -> Result<(), String> {
    check_strength(params, method)?;
    let mut lines = Vec::new();
    for name in &params.headers {
        let value = match name.as_str() {
            "(request-target)" => format!("{} {path_and_query}", method.to_ascii_lowercase()),
            "(created)" => params
                .created
                .ok_or("(created) is signed but missing")?
                .to_string(),
            "(expires)" => params
                .expires
                .ok_or("(expires) is signed but missing")?
                .to_string(),
            _ => header(name).ok_or_else(|| format!("signed header {name} is missing"))?,
        };
        lines.push(format!("{name}: {value}"));
    }
    let key = keys.get(public_key_pem)?;
    let signature = B64
        .decode(&params.signature)
        .map_err(|e| format!("the signature is not base64: {e}"))?;
    let mut verifier = Verifier::new(MessageDigest::sha256(), &key).map_err(|e| e.to_string())?;
    verifier
        .update(lines.join("\n").as_bytes())
        .map_err(|e| e.to_string())?;
    if verifier.verify(&signature).map_err(|e| e.to_string())? {
        Ok(())
    } else {
        Err("signature does not verify".into())
    }
}

/// Whether an HTTP date is within `max_skew_secs` of now.
pub fn date_is_fresh(date: &str, now: SystemTime, max_skew_secs: u64) -> bool {
    let Ok(when) = httpdate::parse_http_date(date) else {
        return false;
    };
    let skew = match now.duration_since(when) {
        Ok(past) => past,
        Err(future) => future.duration(),
    };
    skew.as_secs() <= max_skew_secs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_read_in_any_case_and_in_sha_512() {
        let body = b"{\"type\":\"Like\"}";
        assert!(digest_matches(&digest_header(body), body));
        let lower = digest_header(body).replacen("SHA-256", "sha-256", 1);
        assert!(digest_matches(&lower, body));
        let sha512 = format!("SHA-512={}", B64.encode(Sha512::digest(body)));
        assert!(digest_matches(&sha512, body));
        assert!(digest_matches(&format!("MD5=xyz, {sha512}"), body));
        assert!(!digest_matches(&digest_header(b"another"), body));
        assert!(!digest_matches("SHA-256", body));
    }
    use openssl::rsa::Rsa;
    use std::time::Duration;

    fn keypair() -> (String, String) {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        (
            String::from_utf8(key.public_key_to_pem().unwrap()).unwrap(),
            String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        )
    }

    fn header_of(headers: &[(&'static str, String)], url: &Url) -> impl Fn(&str) -> Option<String> {
        let mut map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        map.insert("host".into(), host_header(url));
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_signed_post_verifies_and_a_tampered_one_does_not() {
        let (public, private) = keypair();
        let key = SigningKey::from_pem("http://alpha.test:41001/u/marie", &private).unwrap();
        let url = Url::parse("http://beta.test:41002/inbox").unwrap();
        let body = br#"{"type":"Follow"}"#;
        let headers = sign_request(&key, "POST", &url, Some(body), SystemTime::now()).unwrap();
        let sig = headers.iter().find(|(k, _)| *k == "Signature").unwrap();
        let params = parse_signature(&sig.1).unwrap();
        assert_eq!(params.key_id, "http://alpha.test:41001/u/marie#main-key");
        assert_eq!(
            params.headers,
            ["(request-target)", "host", "date", "digest"]
        );
        assert_eq!(key_owner(&params.key_id), "http://alpha.test:41001/u/marie");
        verify(
            &params,
            "POST",
            "/inbox",
            header_of(&headers, &url),
            &public,
        )
        .unwrap();
        assert!(verify(
            &params,
            "POST",
            "/u/other/inbox",
            header_of(&headers, &url),
            &public
        )
        .is_err());
        let (other_public, _) = keypair();
        assert!(verify(
            &params,
            "POST",
            "/inbox",
            header_of(&headers, &url),
            &other_public
        )
        .is_err());
        let digest = headers.iter().find(|(k, _)| *k == "Digest").unwrap();
        assert_eq!(digest.1, digest_header(body));
        assert!(digest.1.starts_with("SHA-256="));
    }

    /// A signer's rotated key, published under the same key id, verifies its new signatures
    /// and no longer its old ones, whatever was kept of the old key.
    #[test]
    fn a_rotated_key_under_the_same_key_id_is_parsed_anew() {
        let keys = ParsedKeys::new(8);
        let url = Url::parse("http://beta.test:41002/inbox").unwrap();
        let body = br#"{"type":"Like"}"#;
        let signed = |private: &str| {
            let key = SigningKey::from_pem("http://alpha.test:41001/u/marie", private).unwrap();
            let headers = sign_request(&key, "POST", &url, Some(body), SystemTime::now()).unwrap();
            let sig = headers.iter().find(|(k, _)| *k == "Signature").unwrap();
            (parse_signature(&sig.1).unwrap(), headers)
        };
        let check = |params: &SignatureParams, headers: &[(&'static str, String)], pem: &str| {
            verify_with(
                &keys,
                params,
                "POST",
                "/inbox",
                header_of(headers, &url),
                pem,
            )
        };
        let (old_public, old_private) = keypair();
        let (old_params, old_headers) = signed(&old_private);
        check(&old_params, &old_headers, &old_public).unwrap();
        check(&old_params, &old_headers, &old_public).unwrap();
        assert_eq!(keys.len(), 1, "one PEM, parsed once");

        let (new_public, new_private) = keypair();
        let (new_params, new_headers) = signed(&new_private);
        assert_eq!(new_params.key_id, old_params.key_id);
        check(&new_params, &new_headers, &new_public).unwrap();
        assert!(check(&old_params, &old_headers, &new_public).is_err());
        assert!(check(&new_params, &new_headers, &old_public).is_err());
        assert_eq!(keys.len(), 2);
        assert!(keys.get("not a key").is_err());
        assert_eq!(keys.len(), 2, "what does not parse is not kept");
    }

    #[test]
    fn parsed_keys_stay_within_their_bound() {
        let keys = ParsedKeys::new(3);
        let pems: Vec<String> = (0..5).map(|_| keypair().0).collect();
        for pem in &pems {
            keys.get(pem).unwrap();
            assert!(keys.len() <= 3);
        }
        assert_eq!(keys.len(), 3);
        // Every key still reads right, dropped or not, and the bound holds.
        for pem in &pems {
            assert_eq!(
                keys.get(pem).unwrap().public_key_to_pem().unwrap(),
                pem.as_bytes()
            );
            assert_eq!(keys.len(), 3);
        }
        // A key already kept takes no room.
        let kept = keys.lock().keys().next().cloned().unwrap();
        keys.get(&kept).unwrap();
        assert_eq!(keys.len(), 3);
    }

    #[test]
    fn dates_outside_the_window_are_stale() {
        let now = SystemTime::now();
        let fresh = httpdate::fmt_http_date(now - Duration::from_secs(600));
        let stale = httpdate::fmt_http_date(now - Duration::from_secs(7200));
        let future = httpdate::fmt_http_date(now + Duration::from_secs(7200));
        assert!(date_is_fresh(&fresh, now, 3600));
        assert!(!date_is_fresh(&stale, now, 3600));
        assert!(!date_is_fresh(&future, now, 3600));
        assert!(!date_is_fresh("yesterday", now, 3600));
    }

    #[test]
    fn draft_11_created_and_expires_are_read_and_checked() {
        let now = SystemTime::now();
        let unix = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = format!(
            r#"keyId="https://a.example/u/x#main-key",algorithm="hs2019",created={},expires={},headers="(request-target) (created) (expires) host",signature="c2ln""#,
            unix - 5,
            unix + 3600
        );
        let params = parse_signature(&header).unwrap();
        assert_eq!(params.created, Some(unix - 5));
        assert!(params.is_fresh(None, now, 3600));
        let old = parse_signature(&header.replace(
            &format!("created={}", unix - 5),
            &format!("created={}", unix - 7200),
        ))
        .unwrap();
        assert!(!old.is_fresh(None, now, 3600));
        let unsigned_date = SignatureParams {
            headers: vec!["host".into()],
            created: None,
            ..params
        };
        assert!(!unsigned_date.is_fresh(Some(&httpdate::fmt_http_date(now)), now, 3600));
    }

    #[test]
    fn weak_signatures_are_refused_as_mastodon_refuses_them() {
        let params = |algorithm: Option<&str>, headers: &str| SignatureParams {
            key_id: "https://a.example/u/x#main-key".into(),
            algorithm: algorithm.map(str::to_owned),
            headers: headers.split_whitespace().map(str::to_owned).collect(),
            signature: String::new(),
            created: Some(1),
            expires: Some(2),
        };
        let (rsa, hs2019) = (Some("rsa-sha256"), Some("hs2019"));
        for (algorithm, headers, method) in [
            (rsa, "(request-target) host date digest", "POST"),
            (hs2019, "(request-target) host date digest", "POST"),
            (
                None,
                "(request-target) (created) (expires) host digest",
                "POST",
            ),
            (
                rsa,
                "host date digest content-type (request-target)",
                "POST",
            ),
            (rsa, "(request-target) host date", "GET"),
            (hs2019, "(request-target) (created) host", "GET"),
        ] {
            assert_eq!(
                check_strength(&params(algorithm, headers), method),
                Ok(()),
                "{algorithm:?} {headers} {method}"
            );
        }
        for (algorithm, headers, method, why) in [
            (
                rsa,
                "(request-target) date digest",
                "POST",
                "host is not signed",
            ),
            (
                rsa,
                "host date digest",
                "POST",
                "(request-target) is not signed",
            ),
            (
                rsa,
                "(request-target) host date",
                "POST",
                "digest is not signed",
            ),
            (rsa, "(request-target) host digest", "POST", "neither Date"),
            (rsa, "date", "GET", "(request-target) is not signed"),
            (
                rsa,
                "(request-target) (created) host digest",
                "POST",
                "only hs2019",
            ),
            (
                Some("ed25519"),
                "(request-target) host date digest",
                "POST",
                "unsupported",
            ),
            (
                Some("rsa-sha512"),
                "(request-target) host date",
                "GET",
                "unsupported",
            ),
        ] {
            let refused = check_strength(&params(algorithm, headers), method).unwrap_err();
            assert!(refused.contains(why), "{headers}: {refused}");
        }
    }

    #[test]
    fn without_a_headers_parameter_the_algorithm_decides_what_is_signed() {
        let rsa = parse_signature(r#"keyId="k",algorithm="RSA-SHA256",signature="c2ln""#).unwrap();
        assert_eq!(rsa.algorithm.as_deref(), Some("rsa-sha256"));
        assert_eq!(rsa.headers, ["date"]);
        let hs2019 = parse_signature(r#"keyId="k",signature="c2ln""#).unwrap();
        assert_eq!(hs2019.algorithm, None);
        assert_eq!(hs2019.headers, ["(created)"]);
    }

    #[test]
    fn gotosocial_key_ids_name_their_owner() {
        assert_eq!(
            key_owner("https://gts.example/users/a/main-key"),
            "https://gts.example/users/a"
        );
    }
}
