//! Which hosts a component may send HTTP requests to: Spin's
//! `allowed_outbound_hosts` syntax, `scheme://host[:port]`, where the scheme,
//! the host (or a leading `*.` of it) and the port may be `*`. Without a
//! port, `http` means 80 and `https` 443. An empty list allows nothing.

use anyhow::{Result, bail};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`: any subdomain (not the domain itself).
    Suffix(String),
}

impl AllowedHost {
    pub fn parse(text: &str) -> Result<Self> {
        let Some((scheme, rest)) = text.split_once("://") else {
            bail!(
                "allowed_outbound_hosts: {text:?} has no scheme\n  fix: write it as scheme://host[:port], e.g. \"https://api.example.com\""
            );
        };
        let rest = rest.trim_end_matches('/');
        // `[v6::addr]:port` keeps its colons inside the brackets.
        let (host, port) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            },
        };
        let port =
            match port {
                None => match scheme {
                    "http" => Some(80),
                    "https" => Some(443),
                    _ => None,
                },
                Some("*") => None,
                Some(number) => Some(number.parse::<u16>().map_err(|_| {
                    anyhow::anyhow!("allowed_outbound_hosts: {text:?} has a bad port {number:?}\n  fix: use a number or *")
                })?),
            };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            HostPattern::Suffix(suffix.to_string())
        } else if host.is_empty() || host.contains('*') {
            bail!("allowed_outbound_hosts: {text:?}: the host may be *, *.domain or a name\n  fix: e.g. \"https://*.example.com\"");
        } else {
            HostPattern::Exact(host)
        };
        let scheme = (scheme != "*").then(|| scheme.to_ascii_lowercase());
        Ok(AllowedHost { scheme, host, port })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self.port.is_none_or(|p| p == port)
            && match &self.host {
                HostPattern::Any => true,
                HostPattern::Exact(name) => *name == host,
                HostPattern::Suffix(suffix) => host.ends_with(&format!(".{suffix}")),
            }
    }
}

/// Parse a component's whole list.
pub fn parse_all(hosts: &[String]) -> Result<Vec<AllowedHost>> {
    hosts.iter().map(|h| AllowedHost::parse(h)).collect()
}

/// Whether any entry allows `uri` (absolute, as the guest sends it).
pub fn is_allowed(allowed: &[AllowedHost], uri: &http::Uri) -> bool {
    let scheme = uri.scheme_str().unwrap_or("http");
    let Some(host) = uri.host() else { return false };
    let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
    allowed.iter().any(|a| a.allows(scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &[&str], uri: &str) -> bool {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        is_allowed(&parse_all(&list).unwrap(), &uri.parse().unwrap())
    }

    #[test]
    fn spins_syntax_matches_as_spin_does() {
        assert!(allowed(&["https://api.example.com"], "https://api.example.com/x"));
        assert!(!allowed(&["https://api.example.com"], "http://api.example.com/x"));
        assert!(!allowed(&["https://api.example.com"], "https://api.example.com:8443/x"));
        assert!(allowed(&["http://localhost:3001"], "http://localhost:3001/"));
        assert!(!allowed(&["http://localhost:3001"], "http://localhost:3002/"));
        assert!(allowed(&["*://*.example.com:*"], "http://a.example.com:9/"));
        assert!(!allowed(&["*://*.example.com:*"], "http://example.com/"));
        assert!(allowed(&["*://*:*"], "https://anything.test:1/"));
        assert!(!allowed(&[], "https://api.example.com/"));
        assert!(allowed(&["http://127.0.0.1:8080"], "http://127.0.0.1:8080/"));
        assert!(allowed(&["http://[::1]:8080"], "http://[::1]:8080/"));
    }

    #[test]
    fn bad_entries_are_refused_with_a_fix() {
        for bad in ["api.example.com", "https://api.example.com:http", "https://a*b.com"] {
            let error = AllowedHost::parse(bad).unwrap_err();
            assert!(error.to_string().contains("fix:"), "{error}");
        }
    }
}
