//! PinnedCertificate: the identity service's PEM, NULs and all, and recorded real certificates.

use confidential_ledger::tls::{PinnedCertificate, PinnedCertificateError as E};

use crate::pki::Authority;

#[test]
fn trailing_nuls_and_whitespace_are_ignored() {
    let service = Authority::service("CCF Service");
    let from_der = PinnedCertificate::from_der(service.cert.clone()).unwrap();
    for pem in [
        service.pem.clone(),
        format!("{}\u{0}", service.pem),
        format!("{}\u{0}", service.pem.trim_end()),
        format!("{}\u{0}\u{0}\n\u{0}", service.pem),
        service.pem.replace('\n', "\r\n"),
    ] {
        let pinned = PinnedCertificate::from_pem(&pem).unwrap_or_else(|e| panic!("{pem:?}: {e}"));
        assert_eq!(pinned, from_der);
    }
    assert_eq!(
        from_der.fingerprint(),
        confidential_ledger::certificate_fingerprint(&service.cert).unwrap()
    );
    assert!(format!("{from_der:?}").contains(&from_der.fingerprint()));
}

#[test]
fn the_pinned_certificate_exports_as_the_pem_it_was_read_from() {
    let service = Authority::service("CCF Service");
    let pinned = PinnedCertificate::from_der(service.cert.clone()).unwrap();
    let pem = pinned.to_pem();
    // rcgen writes the canonical layout too: 64-character lines, LF line ends.
    assert_eq!(pem, service.pem);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    assert!(pem.lines().all(|line| line.len() <= 64), "{pem}");
    assert_eq!(PinnedCertificate::from_pem(&pem).unwrap(), pinned);
    assert_eq!(
        confidential_ledger::certificate_fingerprint(&pem).unwrap(),
        pinned.fingerprint()
    );
}

#[test]
fn anything_but_one_certificate_is_refused() {
    let a = Authority::service("CCF Service");
    let b = Authority::service("CCF Service");
    let err = PinnedCertificate::from_pem(format!("{}{}", a.pem, b.pem)).unwrap_err();
    assert!(matches!(err, E::MultipleCertificates(2)), "{err:?}");
    let err = PinnedCertificate::from_pem("").unwrap_err();
    assert!(matches!(err, E::NoCertificate), "{err:?}");
    let err = PinnedCertificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err();
    assert!(matches!(err, E::Pem(_)), "{err:?}");
    let err = PinnedCertificate::from_der(b"junk".to_vec()).unwrap_err();
    assert!(matches!(err, E::Invalid(_)), "{err:?}");
    let err = PinnedCertificate::from_pem_file("/nonexistent/service.pem").unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/service.pem"),
        "{err}"
    );
    // Something endless is refused after a bounded read.
    #[cfg(unix)]
    {
        let err = PinnedCertificate::from_pem_file("/dev/zero").unwrap_err();
        assert!(
            matches!(&err, E::Read { source, .. } if source.kind() == std::io::ErrorKind::InvalidData),
            "{err:?}"
        );
    }
}

#[test]
fn different_certificates_are_different_pins() {
    let a = PinnedCertificate::from_pem(Authority::service("CCF Service").pem).unwrap();
    let b = PinnedCertificate::from_pem(Authority::service("CCF Service").pem).unwrap();
    assert_ne!(a, b);
    assert_eq!(a, a.clone());
}

/// Every `ledgerTlsCertificate` in the recorded sessions with real ledgers.
fn recorded_service_certificates() -> Vec<(String, String)> {
    let Some(dir) = testkit::shared::path("recordings") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for language in ["dotnet", "java", "python"] {
        let Ok(entries) = std::fs::read_dir(dir.join(language)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let recording: serde_json::Value = serde_json::from_str(&text).unwrap();
            let calls = recording["Entries"]
                .as_array()
                .or_else(|| recording["networkCallRecords"].as_array())
                .cloned()
                .unwrap_or_default();
            for call in calls {
                let body = match &call["ResponseBody"] {
                    serde_json::Value::String(s) => serde_json::from_str(s).unwrap_or_default(),
                    other => other.clone(),
                };
                if let Some(pem) = body["ledgerTlsCertificate"].as_str() {
                    found.push((path.display().to_string(), pem.to_owned()));
                }
            }
        }
    }
    found
}

#[test]
fn real_service_certificates_from_recordings_can_be_pinned() {
    let recorded = recorded_service_certificates();
    if recorded.is_empty() {
        return; // testkit already said why (and fails in CI)
    }
    assert!(recorded.len() >= 3, "{}", recorded.len());
    for (origin, pem) in recorded {
        let pinned = PinnedCertificate::from_pem(&pem).unwrap_or_else(|e| panic!("{origin}: {e}"));
        // The identity service sometimes ends the PEM with a NUL.
        let with_nul = PinnedCertificate::from_pem(format!("{pem}\u{0}")).unwrap();
        assert_eq!(pinned, with_nul, "{origin}");
    }
}
