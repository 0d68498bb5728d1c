//! The transactions of the ledger and their binary encoding.
//!
//! A record payload is `seqno: u64 | view: u64 | leaf: [u8; 32] | kind: u8 | body`, all
//! integers little-endian. The write-set digest of a transaction is `SHA256(kind || body)`.

use serde::{Deserialize, Serialize};

use crate::digest::Hash;

/// Record kinds.
pub(crate) const KIND_ENTRY: u8 = 1;
pub(crate) const KIND_SIGNATURE: u8 = 2;
pub(crate) const KIND_GOVERNANCE: u8 = 3;

/// Size of the fixed part of a payload.
pub(crate) const PAYLOAD_HEADER: usize = 8 + 8 + 32 + 1;

/// A ledger entry written by a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) collection: String,
    pub(crate) contents: String,
    pub(crate) tags: Vec<String>,
    /// Key of the entry's `LedgerEntryV1` application claim.
    pub(crate) claims_secret: [u8; 32],
}

/// A signature transaction: the node's signature over the Merkle root before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignatureTx {
    /// The identity generation whose node key signed.
    pub(crate) generation: u32,
    pub(crate) root: Hash,
    /// DER-encoded ECDSA signature.
    pub(crate) signature: Vec<u8>,
}

/// A user and their roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UserRoles {
    pub(crate) user_id: String,
    pub(crate) roles: Vec<String>,
}

/// A user-defined role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RoleDef {
    pub(crate) name: String,
    pub(crate) actions: Vec<String>,
}

/// A change to the ledger's governance or configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub(crate) enum GovOp {
    /// The first transaction of a ledger.
    #[serde(rename_all = "camelCase")]
    Genesis {
        member_certificate: String,
        constitution: String,
        users: Vec<UserRoles>,
    },
    /// Creates a user or replaces their roles.
    #[serde(rename_all = "camelCase")]
    SetUser { user_id: String, roles: Vec<String> },
    /// Removes a user.
    #[serde(rename_all = "camelCase")]
    RemoveUser { user_id: String },
    /// Creates or replaces user-defined roles.
    SetRoles { roles: Vec<RoleDef> },
    /// Removes a user-defined role.
    RemoveRole { name: String },
    /// Creates or replaces a user-defined function.
    SetFunction { id: String, code: String },
    /// Removes a user-defined function.
    RemoveFunction { id: String },
    /// Replaces the user-defined endpoints bundle.
    SetEndpoints { bundle: serde_json::Value },
    /// Replaces the JavaScript runtime options.
    SetRuntimeOptions { options: serde_json::Value },
    /// The key-value writes of a readwrite user-defined endpoint: map -> key (hex) -> value
    /// (hex), `None` deleting the key.
    KvWrite { writes: crate::js::kv::KvWrites },
    /// A new service identity takes over.
    #[serde(rename_all = "camelCase")]
    RotateIdentity {
        generation: u32,
        service_certificate: String,
    },
}

/// A transaction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tx {
    Entry(Entry),
    Signature(SignatureTx),
    Governance(GovOp),
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    // Lengths are checked by the callers (collection ids and tags are short).
    out.extend_from_slice(&(s.len().min(u16::MAX as usize) as u16).to_le_bytes());
    out.extend_from_slice(&s.as_bytes()[..s.len().min(u16::MAX as usize)]);
}

impl Tx {
    pub(crate) fn kind(&self) -> u8 {
        match self {
            Tx::Entry(_) => KIND_ENTRY,
            Tx::Signature(_) => KIND_SIGNATURE,
            Tx::Governance(_) => KIND_GOVERNANCE,
        }
    }

    /// The body bytes (everything after the kind).
    pub(crate) fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Tx::Entry(e) => {
                out.reserve(32 + 2 + e.collection.len() + 4 + e.contents.len() + 2);
                out.extend_from_slice(&e.claims_secret);
                put_str16(&mut out, &e.collection);
                out.extend_from_slice(&(e.contents.len() as u32).to_le_bytes());
                out.extend_from_slice(e.contents.as_bytes());
                out.extend_from_slice(&(e.tags.len().min(u16::MAX as usize) as u16).to_le_bytes());
                for t in e.tags.iter().take(u16::MAX as usize) {
                    put_str16(&mut out, t);
                }
            }
            Tx::Signature(s) => {
                out.extend_from_slice(&s.generation.to_le_bytes());
                out.extend_from_slice(&s.root);
                out.extend_from_slice(&(s.signature.len() as u16).to_le_bytes());
                out.extend_from_slice(&s.signature);
            }
            Tx::Governance(op) => {
                // Serialising these plain values cannot fail.
                out = serde_json::to_vec(op).unwrap_or_default();
            }
        }
        out
    }

    /// Decodes a body of `kind`.
    pub(crate) fn decode(kind: u8, body: &[u8]) -> Result<Tx, String> {
        let mut r = Reader::new(body);
        let tx = match kind {
            KIND_ENTRY => {
                let claims_secret = r.array::<32>()?;
                let collection = r.str16()?.to_string();
                let len = r.u32()? as usize;
                let contents = r.str_n(len)?.to_string();
                let count = r.u16()?;
                let tags = (0..count)
                    .map(|_| r.str16().map(str::to_string))
                    .collect::<Result<_, _>>()?;
                Tx::Entry(Entry {
                    collection,
                    contents,
                    tags,
                    claims_secret,
                })
            }
            KIND_SIGNATURE => {
                let generation = r.u32()?;
                let root = r.array::<32>()?;
                let len = r.u16()? as usize;
                let signature = r.bytes(len)?.to_vec();
                Tx::Signature(SignatureTx {
                    generation,
                    root,
                    signature,
                })
            }
            KIND_GOVERNANCE => {
                let op = serde_json::from_slice(body)
                    .map_err(|e| format!("invalid governance record: {e}"))?;
                return Ok(Tx::Governance(op));
            }
            other => return Err(format!("unknown record kind {other}")),
        };
        r.finish()?;
        Ok(tx)
    }
}

/// What replay needs of an entry, without copying its contents.
pub(crate) fn entry_index(body: &[u8]) -> Result<(&str, Vec<&str>), String> {
    let mut r = Reader::new(body);
    r.bytes(32)?;
    let collection = r.str16()?;
    let len = r.u32()? as usize;
    r.bytes(len)?;
    let count = r.u16()?;
    let tags = (0..count).map(|_| r.str16()).collect::<Result<_, _>>()?;
    r.finish()?;
    Ok((collection, tags))
}

/// The fixed part of a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PayloadHeader {
    pub(crate) seqno: u64,
    pub(crate) view: u64,
    pub(crate) leaf: Hash,
    pub(crate) kind: u8,
}

/// Builds a payload.
pub(crate) fn encode_payload(h: &PayloadHeader, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PAYLOAD_HEADER + body.len());
    out.extend_from_slice(&h.seqno.to_le_bytes());
    out.extend_from_slice(&h.view.to_le_bytes());
    out.extend_from_slice(&h.leaf);
    out.push(h.kind);
    out.extend_from_slice(body);
    out
}

/// Splits a payload into its header and body.
pub(crate) fn decode_payload(payload: &[u8]) -> Result<(PayloadHeader, &[u8]), String> {
    let mut r = Reader::new(payload);
    let seqno = r.u64()?;
    let view = r.u64()?;
    let leaf = r.array::<32>()?;
    let kind = r.u8()?;
    Ok((
        PayloadHeader {
            seqno,
            view,
            leaf,
            kind,
        },
        r.rest(),
    ))
}

/// A bounds-checked cursor.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("record truncated at byte {} (wanted {n} more)", self.pos))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn str_n(&mut self, n: usize) -> Result<&'a str, String> {
        std::str::from_utf8(self.bytes(n)?).map_err(|e| format!("invalid UTF-8: {e}"))
    }

    fn str16(&mut self) -> Result<&'a str, String> {
        let n = self.u16()? as usize;
        self.str_n(n)
    }

    fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    fn finish(&self) -> Result<(), String> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(format!(
                "{} unexpected bytes at the end of a record",
                self.buf.len() - self.pos
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let txs = [
            Tx::Entry(Entry {
                collection: "subledger:0".into(),
                contents: "héllo".into(),
                tags: vec!["a".into(), "b".into()],
                claims_secret: [9; 32],
            }),
            Tx::Signature(SignatureTx {
                generation: 2,
                root: [3; 32],
                signature: vec![1, 2, 3],
            }),
            Tx::Governance(GovOp::SetUser {
                user_id: "u".into(),
                roles: vec!["Reader".into()],
            }),
        ];
        for tx in txs {
            let body = tx.encode_body();
            assert_eq!(Tx::decode(tx.kind(), &body).unwrap(), tx);
            let h = PayloadHeader {
                seqno: 5,
                view: 2,
                leaf: [1; 32],
                kind: tx.kind(),
            };
            let payload = encode_payload(&h, &body);
            let (h2, b2) = decode_payload(&payload).unwrap();
            assert_eq!((h2, b2), (h, &body[..]));
        }
        let entry = Tx::Entry(Entry {
            collection: "c".into(),
            contents: "x".into(),
            tags: vec!["t".into()],
            claims_secret: [0; 32],
        });
        assert_eq!(entry_index(&entry.encode_body()).unwrap(), ("c", vec!["t"]));
        assert!(Tx::decode(KIND_ENTRY, &[0; 10]).is_err());
        assert!(Tx::decode(9, &[]).is_err());
    }
}
