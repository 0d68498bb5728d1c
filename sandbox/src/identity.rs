//! The ledger's identities: service certificates (one per generation, rotated with
//! endorsements), node certificates, the consortium member, the administrator's client
//! certificate, and the secrets (ledger secret, token signing key, control secret).
//!
//! Everything is kept in `identity.json` in the data directory (mode 0600), replaced
//! atomically.

use std::path::Path;
use std::sync::Arc;

use p256::ecdsa::SigningKey;
use p256::pkcs8::DecodePrivateKey;
use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, PublicKeyData, SanType, SerialNumber, SignatureAlgorithm,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::SandboxError;
use crate::digest::{fingerprint, sha256};
use crate::fsutil;

/// File name of the identity store inside the data directory.
pub(crate) const IDENTITY_FILE: &str = "identity.json";
/// Certificates are valid this long, like a real ledger's.
const VALIDITY_DAYS: i64 = 90;
/// Certificates are reissued (same keys) when they expire sooner than this.
const RENEW_BEFORE_DAYS: i64 = 30;

pub(crate) fn err(e: impl std::fmt::Display) -> SandboxError {
    SandboxError::Identity(e.to_string())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

pub(crate) fn serial() -> SerialNumber {
    let mut b: [u8; 16] = random_bytes();
    b[0] &= 0x7f;
    b[0] |= 0x40;
    SerialNumber::from_slice(&b)
}

pub(crate) fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

pub(crate) fn generate(alg: &'static SignatureAlgorithm) -> Result<KeyPair, SandboxError> {
    KeyPair::generate_for(alg).map_err(err)
}

/// A key pair and certificate, as stored.
#[derive(Clone, Serialize, Deserialize)]
struct KeyCert {
    certificate: String,
    key: String,
    /// Unix time after which the certificate is invalid.
    #[serde(default)]
    not_after: i64,
}

impl std::fmt::Debug for KeyCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCert")
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct GenerationFile {
    index: u32,
    first_view: u64,
    service: KeyCert,
    node: KeyCert,
    /// The previous generation's service key, certified by this generation's service key.
    endorsement: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct IdentityFile {
    format: u32,
    ledger_id: String,
    ledger_secret: String,
    control_secret: String,
    token_key: String,
    member: KeyCert,
    admin: KeyCert,
    generations: Vec<GenerationFile>,
}

/// One service identity and the node identity it issued.
pub(crate) struct Generation {
    /// 0 for the first identity, incremented by each rotation.
    pub(crate) index: u32,
    /// The first view signed by this generation.
    pub(crate) first_view: u64,
    pub(crate) service_cert_pem: String,
    service_key_pem: String,
    service_not_after: i64,
    pub(crate) node_cert_pem: String,
    pub(crate) node_cert_der: Vec<u8>,
    node_key_pem: String,
    node_not_after: i64,
    /// PKCS#8 DER of the node key, for TLS.
    pub(crate) node_key_der: Vec<u8>,
    /// The node key, for signing Merkle roots.
    pub(crate) node_signing_key: SigningKey,
    /// `hex(SHA256(DER SubjectPublicKeyInfo))` of the node key.
    pub(crate) node_id: String,
    pub(crate) endorsement_pem: Option<String>,
}

impl Generation {
    /// The node's private key (PKCS#8 PEM).
    pub(crate) fn node_key_pem(&self) -> &str {
        &self.node_key_pem
    }
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("index", &self.index)
            .field("first_view", &self.first_view)
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

/// All identities and secrets of one ledger.
pub(crate) struct Identity {
    pub(crate) ledger_id: String,
    pub(crate) ledger_secret: [u8; 32],
    pub(crate) control_secret: String,
    pub(crate) token_key: SigningKey,
    token_key_pem: String,
    member: KeyCert,
    pub(crate) member_cert_der: Vec<u8>,
    admin: KeyCert,
    pub(crate) admin_fingerprint: String,
    pub(crate) generations: Vec<Arc<Generation>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("ledger_id", &self.ledger_id)
            .field("generations", &self.generations)
            .finish_non_exhaustive()
    }
}

fn pem_to_der(pem_text: &str) -> Result<Vec<u8>, SandboxError> {
    let parsed = pem::parse(pem_text).map_err(err)?;
    Ok(parsed.into_contents())
}

fn service_params(now: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name("CCF Service");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.not_before = now;
    p.not_after = now + Duration::days(VALIDITY_DAYS) - Duration::seconds(1);
    p.serial_number = Some(serial());
    p.use_authority_key_identifier_extension = true;
    p
}

fn node_params(ledger_id: &str, now: OffsetDateTime) -> Result<CertificateParams, SandboxError> {
    let mut p = CertificateParams::default();
    p.distinguished_name = name("CCF Node");
    p.is_ca = IsCa::ExplicitNoCa;
    p.not_before = now;
    p.not_after = now + Duration::days(VALIDITY_DAYS) - Duration::seconds(1);
    p.serial_number = Some(serial());
    p.use_authority_key_identifier_extension = true;
    let dns = |s: String| -> Result<SanType, SandboxError> {
        Ok(SanType::DnsName(s.try_into().map_err(err)?))
    };
    p.subject_alt_names = vec![
        dns("localhost".into())?,
        SanType::IpAddress([127, 0, 0, 1].into()),
        SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        dns(ledger_id.to_string())?,
        dns(format!("{ledger_id}.confidential-ledger.azure.com"))?,
    ];
    Ok(p)
}

/// Certificate and key of a newly made generation, before it is wrapped up.
fn make_generation(
    ledger_id: &str,
    index: u32,
    first_view: u64,
    previous: Option<&Generation>,
) -> Result<GenerationFile, SandboxError> {
    let now = OffsetDateTime::now_utc();
    let service_key = generate(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let sparams = service_params(now);
    let service_cert = sparams.self_signed(&service_key).map_err(err)?;
    let issuer = Issuer::from_params(&sparams, &service_key);

    let node_key = generate(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let node_cert = node_params(ledger_id, now)?
        .signed_by(&node_key, &issuer)
        .map_err(err)?;

    // The previous service key, certified by the new one: links receipts signed under the old
    // identity to the new service certificate.
    let endorsement = match previous {
        None => None,
        Some(prev) => {
            let prev_key = KeyPair::from_pem(&prev.service_key_pem).map_err(err)?;
            let mut p = service_params(now);
            p.not_after = now + Duration::days(VALIDITY_DAYS) - Duration::seconds(1);
            Some(p.signed_by(&prev_key, &issuer).map_err(err)?.pem())
        }
    };
    let not_after = sparams.not_after.unix_timestamp();
    Ok(GenerationFile {
        index,
        first_view,
        service: KeyCert {
            certificate: service_cert.pem(),
            key: service_key.serialize_pem(),
            not_after,
        },
        node: KeyCert {
            certificate: node_cert.pem(),
            key: node_key.serialize_pem(),
            not_after,
        },
        endorsement,
    })
}

fn load_generation(g: &GenerationFile) -> Result<Generation, SandboxError> {
    let node_key_der = pem_to_der(&g.node.key)?;
    let node_signing_key = SigningKey::from_pkcs8_der(&node_key_der).map_err(err)?;
    let node_key = KeyPair::from_pem(&g.node.key).map_err(err)?;
    let node_id = hex::encode(sha256(&[&node_key.subject_public_key_info()]));
    Ok(Generation {
        index: g.index,
        first_view: g.first_view,
        service_cert_pem: g.service.certificate.clone(),
        service_key_pem: g.service.key.clone(),
        service_not_after: g.service.not_after,
        node_cert_der: pem_to_der(&g.node.certificate)?,
        node_cert_pem: g.node.certificate.clone(),
        node_key_pem: g.node.key.clone(),
        node_not_after: g.node.not_after,
        node_key_der,
        node_signing_key,
        node_id,
        endorsement_pem: g.endorsement.clone(),
    })
}

fn generation_file(g: &Generation) -> GenerationFile {
    GenerationFile {
        index: g.index,
        first_view: g.first_view,
        service: KeyCert {
            certificate: g.service_cert_pem.clone(),
            key: g.service_key_pem.clone(),
            not_after: g.service_not_after,
        },
        node: KeyCert {
            certificate: g.node_cert_pem.clone(),
            key: g.node_key_pem.clone(),
            not_after: g.node_not_after,
        },
        endorsement: g.endorsement_pem.clone(),
    }
}

fn self_signed_client(
    common_name: &str,
    alg: &'static SignatureAlgorithm,
    years: i64,
) -> Result<KeyCert, SandboxError> {
    let now = OffsetDateTime::now_utc();
    let key = generate(alg)?;
    let mut p = CertificateParams::default();
    p.distinguished_name = name(common_name);
    p.not_before = now - Duration::minutes(5);
    p.not_after = now + Duration::days(365 * years);
    p.serial_number = Some(serial());
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.self_signed(&key).map_err(err)?;
    Ok(KeyCert {
        certificate: cert.pem(),
        key: key.serialize_pem(),
        not_after: p.not_after.unix_timestamp(),
    })
}

impl Identity {
    /// Fresh identities for a new ledger whose first view is `first_view`.
    pub(crate) fn create(ledger_id: &str, first_view: u64) -> Result<Identity, SandboxError> {
        let token_key = generate(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let file = IdentityFile {
            format: 1,
            ledger_id: ledger_id.to_string(),
            ledger_secret: hex::encode(random_bytes::<32>()),
            control_secret: hex::encode(random_bytes::<32>()),
            token_key: token_key.serialize_pem(),
            member: self_signed_client("CCF Member 0", &rcgen::PKCS_ECDSA_P384_SHA384, 10)?,
            admin: self_signed_client("Ledger Administrator", &rcgen::PKCS_ECDSA_P256_SHA256, 10)?,
            generations: vec![make_generation(ledger_id, 0, first_view, None)?],
        };
        Identity::from_file(file)
    }

    fn from_file(file: IdentityFile) -> Result<Identity, SandboxError> {
        if file.format != 1 {
            return Err(err(format!(
                "unsupported identity file format {}",
                file.format
            )));
        }
        if file.generations.is_empty() {
            return Err(err("the identity file has no service identity"));
        }
        let secret = hex::decode(&file.ledger_secret).map_err(err)?;
        let ledger_secret: [u8; 32] = secret
            .try_into()
            .map_err(|_| err("the ledger secret must be 32 bytes"))?;
        let token_key = SigningKey::from_pkcs8_der(&pem_to_der(&file.token_key)?).map_err(err)?;
        let generations = file
            .generations
            .iter()
            .map(|g| load_generation(g).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Identity {
            ledger_id: file.ledger_id,
            ledger_secret,
            control_secret: file.control_secret,
            token_key,
            token_key_pem: file.token_key,
            member_cert_der: pem_to_der(&file.member.certificate)?,
            member: file.member,
            admin_fingerprint: fingerprint(&pem_to_der(&file.admin.certificate)?),
            admin: file.admin,
            generations,
        })
    }

    /// Loads `identity.json` from `dir`.
    pub(crate) fn load(dir: &Path) -> Result<Identity, SandboxError> {
        let path = dir.join(IDENTITY_FILE);
        let text = fsutil::read_to_string(&path)?;
        let file: IdentityFile = serde_json::from_str(&text).map_err(|e| {
            err(format!(
                "{} is not a valid identity file: {e}",
                path.display()
            ))
        })?;
        Identity::from_file(file)
    }

    /// Writes `identity.json` to `dir` atomically.
    pub(crate) fn save(&self, dir: &Path) -> Result<(), SandboxError> {
        let file = IdentityFile {
            format: 1,
            ledger_id: self.ledger_id.clone(),
            ledger_secret: hex::encode(self.ledger_secret),
            control_secret: self.control_secret.clone(),
            token_key: self.token_key_pem.clone(),
            member: self.member.clone(),
            admin: self.admin.clone(),
            generations: self
                .generations
                .iter()
                .map(|g| generation_file(g))
                .collect(),
        };
        let text = serde_json::to_vec_pretty(&file).map_err(err)?;
        fsutil::write_atomic(&dir.join(IDENTITY_FILE), &text, 0o600)
    }

    /// The current generation.
    pub(crate) fn current(&self) -> &Arc<Generation> {
        // `from_file` refuses an empty list and generations are only ever added.
        &self.generations[self.generations.len() - 1]
    }

    /// A new service identity (and node identity) whose first view is `first_view`, endorsing
    /// the current one. Not yet added.
    pub(crate) fn next_generation(&self, first_view: u64) -> Result<Generation, SandboxError> {
        let current = self.current();
        let file = make_generation(
            &self.ledger_id,
            current.index + 1,
            first_view,
            Some(current),
        )?;
        load_generation(&file)
    }

    /// Reissues the current service and node certificates (same keys) when they expire within
    /// 30 days. Returns whether anything changed.
    pub(crate) fn renew_if_expiring(&mut self) -> Result<bool, SandboxError> {
        let now = OffsetDateTime::now_utc();
        let current = self.current().clone();
        if current.service_not_after.min(current.node_not_after)
            > (now + Duration::days(RENEW_BEFORE_DAYS)).unix_timestamp()
        {
            return Ok(false);
        }
        let service_key = KeyPair::from_pem(&current.service_key_pem).map_err(err)?;
        let sparams = service_params(now);
        let service_cert = sparams.self_signed(&service_key).map_err(err)?;
        let issuer = Issuer::from_params(&sparams, &service_key);
        let node_key = KeyPair::from_pem(&current.node_key_pem).map_err(err)?;
        let node_cert = node_params(&self.ledger_id, now)?
            .signed_by(&node_key, &issuer)
            .map_err(err)?;
        let mut file = generation_file(&current);
        let not_after = sparams.not_after.unix_timestamp();
        file.service.certificate = service_cert.pem();
        file.service.not_after = not_after;
        file.node.certificate = node_cert.pem();
        file.node.not_after = not_after;
        let renewed = Arc::new(load_generation(&file)?);
        let last = self.generations.len() - 1;
        self.generations[last] = renewed;
        Ok(true)
    }

    /// The endorsements linking generation `index`'s node certificate to the current service
    /// certificate: for each later generation, its certificate of the previous service key.
    pub(crate) fn endorsements_since(&self, index: u32) -> Vec<String> {
        self.generations
            .iter()
            .filter(|g| g.index > index)
            .filter_map(|g| g.endorsement_pem.clone())
            .collect()
    }

    /// The generation with `index`.
    pub(crate) fn generation(&self, index: u32) -> Option<&Arc<Generation>> {
        self.generations.iter().find(|g| g.index == index)
    }

    /// The consortium member's certificate (PEM).
    pub(crate) fn member_cert_pem(&self) -> &str {
        &self.member.certificate
    }

    /// The administrator's client certificate (PEM).
    pub(crate) fn admin_cert_pem(&self) -> &str {
        &self.admin.certificate
    }

    /// The administrator's private key (PKCS#8 PEM).
    pub(crate) fn admin_key_pem(&self) -> &str {
        &self.admin.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_endorses_previous_key() {
        let mut id = Identity::create("unit", 2).unwrap();
        assert!(
            id.current()
                .service_cert_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert_eq!(id.current().node_id.len(), 64);
        assert!(id.endorsements_since(0).is_empty());
        let next = id.next_generation(3).unwrap();
        assert!(next.endorsement_pem.is_some());
        id.generations.push(Arc::new(next));
        assert_eq!(id.endorsements_since(0).len(), 1);
        assert!(id.endorsements_since(1).is_empty());

        let dir = tempfile::tempdir().unwrap();
        id.save(dir.path()).unwrap();
        let back = Identity::load(dir.path()).unwrap();
        assert_eq!(back.generations.len(), 2);
        assert_eq!(back.current().node_id, id.current().node_id);
        assert_eq!(back.admin_fingerprint, id.admin_fingerprint);
        assert_eq!(back.ledger_secret, id.ledger_secret);
    }
}
