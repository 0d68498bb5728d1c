//! Throwaway certificates shaped like a ledger's: a self-signed service certificate and node
//! certificates it issues.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, SignatureAlgorithm, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The host name tests connect to (resolved to 127.0.0.1, never looked up).
pub const LEDGER_HOST: &str = "myledger.confidential-ledger.azure.com";
/// Another ledger's host name, for host name mismatches.
pub const OTHER_HOST: &str = "otherledger.confidential-ledger.azure.com";

/// A certificate authority: a ledger's service certificate, an intermediate, or a client CA.
pub struct Authority {
    pub cert: CertificateDer<'static>,
    pub pem: String,
    params: CertificateParams,
    key: KeyPair,
}

/// An end-entity certificate with its key.
pub struct Leaf {
    pub cert: CertificateDer<'static>,
    pub cert_pem: String,
    pub key_pem: String,
    key: KeyPair,
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
}

impl Authority {
    /// A self-signed P-256 CA named `cn`, like a ledger's service certificate (`CCF Service`).
    pub fn service(cn: &str) -> Self {
        Self::self_signed(cn, &PKCS_ECDSA_P256_SHA256)
    }

    /// A self-signed CA with the given algorithm (CCF's own default is P-384).
    pub fn self_signed(cn: &str, alg: &'static SignatureAlgorithm) -> Self {
        let key = KeyPair::generate_for(alg).unwrap();
        let params = ca_params(cn);
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            cert: cert.der().clone(),
            params,
            key,
        }
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// An intermediate CA issued by this one.
    pub fn intermediate(&self, cn: &str) -> Authority {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let params = ca_params(cn);
        let cert = params.signed_by(&key, &self.issuer()).unwrap();
        Authority {
            pem: cert.pem(),
            cert: cert.der().clone(),
            params,
            key,
        }
    }

    /// A leaf named `cn` with the given subject alternative names (DNS names or IPs).
    pub fn leaf(&self, cn: &str, sans: &[&str]) -> Leaf {
        let mut params =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name = name(cn);
        self.leaf_with(params)
    }

    /// A leaf from explicit parameters.
    pub fn leaf_with(&self, params: CertificateParams) -> Leaf {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = params.signed_by(&key, &self.issuer()).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            cert: cert.der().clone(),
            key_pem: key.serialize_pem(),
            key,
        }
    }

    /// A node certificate as CCF issues them: `CN=CCF Node`, SANs for the ledger's names and
    /// the node's IP.
    pub fn node(&self) -> Leaf {
        self.leaf("CCF Node", &[LEDGER_HOST, "myledger", "127.0.0.1"])
    }

    /// A node certificate that expired in 2020.
    pub fn expired_node(&self) -> Leaf {
        let mut params = CertificateParams::new(vec![LEDGER_HOST.to_owned()]).unwrap();
        params.distinguished_name = name("CCF Node");
        params.not_before = date_time_ymd(2019, 1, 1);
        params.not_after = date_time_ymd(2020, 1, 1);
        self.leaf_with(params)
    }
}

impl Leaf {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivatePkcs8KeyDer::from(self.key.serialize_der()).into()
    }
}

/// A P-384 service certificate, as CCF makes by default.
pub fn p384_service() -> Authority {
    Authority::self_signed("CCF Service", &PKCS_ECDSA_P384_SHA384)
}
