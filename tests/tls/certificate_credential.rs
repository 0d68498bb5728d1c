//! CertificateCredential: key formats, files, and every construction error.

use std::path::{Path, PathBuf};

use confidential_ledger::{CertificateCredential, CertificateCredentialError as E};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::pki::Authority;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap()
}

/// Fingerprints from `openssl x509 -noout -fingerprint -sha256` (see tests/data/README.md).
const OPENSSL_FINGERPRINTS: [(&str, &str); 4] = [
    (
        "ec-sec1",
        "9F:32:2F:FD:17:BE:A3:0E:55:B0:6E:BE:88:3E:26:55:AD:28:02:FA:71:D4:2B:80:D7:2B:3B:C9:E0:5E:38:A2",
    ),
    (
        "rsa-pkcs1",
        "2E:0E:33:36:99:E9:9C:6C:95:52:7D:2A:46:82:B0:FD:AC:4D:D6:6A:60:3B:F7:10:77:C7:83:D8:BC:B2:F9:6A",
    ),
    (
        "p384-pkcs8",
        "FC:DC:F3:52:9B:E5:A5:E0:50:5B:7D:B0:DF:2F:EF:FF:D7:49:C0:FC:2B:D9:30:5C:11:07:CC:E3:37:8A:9F:26",
    ),
    (
        "ed25519",
        "2C:D7:7F:8E:F8:8D:0A:E4:74:2C:3C:8E:BD:5F:E5:86:BB:04:50:DC:65:2D:39:8D:FF:45:22:6A:14:A5:C0:DF",
    ),
];

#[test]
fn reads_sec1_pkcs1_pkcs8_and_ed25519_keys_from_files() {
    for (name, fingerprint) in OPENSSL_FINGERPRINTS {
        let credential = CertificateCredential::from_pem_files(
            data(&format!("{name}.crt")),
            data(&format!("{name}.key")),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(credential.user_id(), fingerprint, "{name}");
    }
}

#[test]
fn reads_one_file_holding_certificate_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let combined = dir.path().join("user.pem");
    std::fs::write(&combined, read("ec-sec1.key") + &read("ec-sec1.crt")).unwrap();
    let credential = CertificateCredential::from_pem_file(&combined).unwrap();
    assert_eq!(credential.user_id(), OPENSSL_FINGERPRINTS[0].1);
}

#[test]
fn reads_der() {
    let users = Authority::service("Users CA");
    let user = users.leaf("user", &[]);
    let credential =
        CertificateCredential::from_der(vec![user.cert.clone()], user.key_der()).unwrap();
    assert_eq!(
        credential.user_id(),
        confidential_ledger::certificate_fingerprint(&user.cert).unwrap()
    );
}

#[test]
fn debug_never_shows_the_key() {
    let key = read("ec-sec1.key");
    let credential = CertificateCredential::from_pem_parts(read("ec-sec1.crt"), &key).unwrap();
    let shown = format!("{credential:?} {credential:#?}");
    assert!(shown.contains(OPENSSL_FINGERPRINTS[0].1), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
    let key_body: Vec<&str> = key.lines().filter(|l| !l.starts_with("-----")).collect();
    for line in key_body {
        assert!(!shown.contains(line), "{shown}");
    }
}

#[test]
fn unreadable_files_name_the_path() {
    let missing = data("no-such.crt");
    let err = CertificateCredential::from_pem_files(&missing, data("ec-sec1.key")).unwrap_err();
    assert!(
        matches!(&err, E::Read { path, .. } if path == &missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such.crt"), "{err}");
    let err = CertificateCredential::from_pem_file(data("no-such.pem")).unwrap_err();
    assert!(matches!(err, E::Read { .. }), "{err:?}");
}

/// A path naming something endless is refused after a bounded read, not read until memory runs
/// out.
#[cfg(unix)]
#[test]
fn an_endless_key_file_is_refused_with_a_size_error() {
    let err = CertificateCredential::from_pem_files(data("ec-sec1.crt"), "/dev/zero").unwrap_err();
    assert!(
        matches!(&err, E::Read { source, .. } if source.kind() == std::io::ErrorKind::InvalidData),
        "{err:?}"
    );
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[test]
fn encrypted_keys_are_refused_with_advice() {
    for key in ["encrypted-pkcs8.key", "encrypted-legacy.key"] {
        let err =
            CertificateCredential::from_pem_parts(read("rsa-pkcs1.crt"), read(key)).unwrap_err();
        assert!(matches!(err, E::EncryptedPrivateKey), "{key}: {err:?}");
        assert!(err.to_string().contains("decrypt it first"), "{err}");
    }
}

#[test]
fn missing_or_extra_parts_are_named() {
    let err = CertificateCredential::from_pem(read("ec-sec1.crt")).unwrap_err();
    assert!(matches!(err, E::NoPrivateKey), "{err:?}");

    let err = CertificateCredential::from_pem(read("ec-sec1.key")).unwrap_err();
    assert!(matches!(err, E::NoCertificate), "{err:?}");

    let two_keys = read("ec-sec1.key") + &read("p384-pkcs8.key");
    let err = CertificateCredential::from_pem_parts(read("ec-sec1.crt"), two_keys).unwrap_err();
    assert!(matches!(err, E::MultiplePrivateKeys(2)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "found 2 private keys; expected exactly one"
    );

    let err =
        CertificateCredential::from_der(Vec::new(), PrivatePkcs8KeyDer::from(vec![1, 2, 3]).into())
            .unwrap_err();
    assert!(matches!(err, E::NoCertificate), "{err:?}");
}

#[test]
fn a_key_of_another_certificate_is_a_mismatch() {
    let err = CertificateCredential::from_pem_parts(read("ec-sec1.crt"), read("p384-pkcs8.key"))
        .unwrap_err();
    assert!(matches!(err, E::KeyMismatch), "{err:?}");
    let err = CertificateCredential::from_pem_parts(read("rsa-pkcs1.crt"), read("ed25519.key"))
        .unwrap_err();
    assert!(matches!(err, E::KeyMismatch), "{err:?}");
}

#[test]
fn malformed_pem_and_der_are_reported() {
    let err =
        CertificateCredential::from_pem("-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap_err();
    assert!(matches!(err, E::Pem(_)), "{err:?}");

    let users = Authority::service("Users CA");
    let user = users.leaf("user", &[]);
    let err = CertificateCredential::from_der(
        vec![CertificateDer::from(b"not a certificate".to_vec())],
        user.key_der(),
    )
    .unwrap_err();
    assert!(matches!(err, E::InvalidCertificate(_)), "{err:?}");

    let err = CertificateCredential::from_der(
        vec![user.cert.clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(b"not a key".to_vec())),
    )
    .unwrap_err();
    assert!(matches!(err, E::InvalidPrivateKey(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("the private key is invalid"),
        "{err}"
    );
}
