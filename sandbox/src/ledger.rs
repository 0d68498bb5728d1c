//! The ledger state machine: transactions and their ids, collections and tags, signatures and
//! commit, governance state, and the identities that sign.
//!
//! Every change is a transaction appended to the log. The in-memory state is rebuilt from the
//! log at start-up; contents of entries stay on disk and are read back on demand.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use p256::ecdsa::Signature;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use rand::Rng;
use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::claims::entry_claims_digest;
use crate::digest::{Hash, hmac_sha256, sha256};
use crate::identity::{Generation, Identity};
use crate::merkle::{MerkleTree, ProofStep};
use crate::storage::faults::StorageFaults;
use crate::storage::log::{self, Completion, Durability, LogWriter, Outcome, Recovery};
use crate::storage::record::{
    self, Entry, GovOp, KIND_ENTRY, KIND_GOVERNANCE, KIND_SIGNATURE, PayloadHeader, SignatureTx,
    Tx, UserRoles,
};
use crate::{SandboxError, TransactionId};

/// The default collection.
pub(crate) const DEFAULT_COLLECTION: &str = "subledger:0";
/// The first view of a new ledger.
pub(crate) const FIRST_VIEW: u64 = 2;
/// No collection (for transactions that are not entries).
const NO_COLLECTION: u32 = u32::MAX;

/// The constitution a new sandbox ledger is created with.
pub(crate) const CONSTITUTION: &str = r#"// Constitution of a confidential-ledger-sandbox ledger.
// The sandbox has a single member and applies governance changes directly; this script is
// stored and digested like a real ledger's, but it is not executed.

export function validate(input) {
  const proposal = JSON.parse(input);
  const errors = [];
  if (!Array.isArray(proposal.actions)) {
    errors.push("proposal.actions must be an array");
  }
  return { valid: errors.length === 0, description: errors.join(", ") };
}

export function resolve(proposal, proposerId, votes) {
  const members = ccf.kv["public:ccf.gov.members.info"];
  let active = 0;
  members.forEach(() => { active++; });
  const accepted = votes.filter((v) => v.vote === true).length;
  return accepted > Math.floor(active / 2) ? "Accepted" : "Open";
}

export function apply(proposal, proposalId) {
  for (const action of JSON.parse(proposal).actions) {
    const definition = actions.get(action.name);
    definition.apply(action.args, proposalId);
  }
}
"#;

/// The JavaScript runtime options a new ledger starts with.
pub(crate) fn default_runtime_options() -> Value {
    serde_json::json!({
        "log_exception_details": false,
        "max_cached_interpreters": 10,
        "max_execution_time_ms": 1000,
        "max_heap_bytes": 104_857_600,
        "max_stack_bytes": 1_048_576,
        "return_exception_details": false
    })
}

/// Why a transaction id or entry could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    /// The id cannot name a transaction of this ledger.
    #[error("{0}")]
    InvalidTransactionId(String),
    /// The transaction exists but is not committed yet.
    #[error("transaction {0} is not committed yet")]
    Pending(TransactionId),
    /// The transaction is not an entry of the collection.
    #[error("no ledger entry in collection {collection} at transaction {id}")]
    NoEntry {
        id: TransactionId,
        collection: String,
    },
    /// Reading the log failed.
    #[error(transparent)]
    Storage(#[from] SandboxError),
}

/// Commit state of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxState {
    Pending,
    Committed,
    /// Rolled back before its commit (see [`Ledger::roll_back_next`]).
    Invalid,
}

/// An entry as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EntryView {
    pub(crate) id: TransactionId,
    pub(crate) collection: String,
    pub(crate) contents: String,
}

/// Everything a receipt is made of.
#[derive(Clone, Debug)]
pub(crate) struct ReceiptData {
    pub(crate) id: TransactionId,
    /// Set for the receipt of a signature transaction (no leaf components, `leaf` = signed root).
    pub(crate) is_signature: bool,
    pub(crate) write_set_digest: Hash,
    pub(crate) commit_evidence: String,
    pub(crate) claims_digest: Hash,
    pub(crate) signed_root: Hash,
    pub(crate) proof: Vec<ProofStep>,
    pub(crate) signature: Vec<u8>,
    pub(crate) node_cert_pem: String,
    pub(crate) node_id: String,
    pub(crate) endorsements: Vec<String>,
    /// The entry, for its application claim.
    pub(crate) entry: Option<Entry>,
}

/// Where a transaction's record is and what it is.
#[derive(Clone, Copy, Debug)]
struct TxMeta {
    offset: u64,
    len: u32,
    kind: u8,
    collection: u32,
}

#[derive(Debug, Default)]
struct Collection {
    name: String,
    seqnos: Vec<u64>,
    tags: BTreeMap<String, Vec<u64>>,
}

/// Users, roles and programmability state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Governance {
    pub(crate) users: BTreeMap<String, Vec<String>>,
    pub(crate) roles: BTreeMap<String, Vec<String>>,
    pub(crate) functions: BTreeMap<String, String>,
    pub(crate) endpoints: Option<Value>,
    pub(crate) runtime_options: Value,
    pub(crate) member_certificate: String,
    pub(crate) constitution: String,
    /// The key-value maps written by user-defined endpoints.
    pub(crate) kv: crate::js::kv::KvMaps,
    /// Counts the key-value writes, so that a script's writes are applied only over the
    /// snapshot it ran on.
    pub(crate) kv_version: u64,
}

struct State {
    metas: Vec<TxMeta>,
    /// `(view, first seqno)`, ascending.
    views: Vec<(u64, u64)>,
    tree: MerkleTree,
    signatures: Vec<u64>,
    collections: Vec<Collection>,
    collection_index: HashMap<String, u32>,
    gov: Governance,
    identity: Identity,
    next_offset: u64,
    /// Transactions since the last signature.
    unsigned: u64,
}

impl State {
    /// The state of a ledger without transactions.
    fn new(identity: Identity) -> State {
        let mut state = State {
            metas: Vec::new(),
            views: Vec::new(),
            tree: MerkleTree::new(),
            signatures: Vec::new(),
            collections: Vec::new(),
            collection_index: HashMap::new(),
            gov: Governance {
                runtime_options: default_runtime_options(),
                ..Governance::default()
            },
            identity,
            next_offset: log::FILE_HEADER,
            unsigned: 0,
        };
        state.tree.push([0u8; 32]);
        state
    }

    /// Forgets every transaction (keeps the identities), to replay the log again.
    fn clear(&mut self) {
        self.metas.clear();
        self.views.clear();
        self.tree = MerkleTree::new();
        self.tree.push([0u8; 32]);
        self.signatures.clear();
        self.collections.clear();
        self.collection_index.clear();
        self.gov = Governance {
            runtime_options: default_runtime_options(),
            ..Governance::default()
        };
        self.next_offset = log::FILE_HEADER;
        self.unsigned = 0;
    }

    /// Replays one record read from the log.
    fn replay(&mut self, offset: u64, payload: &[u8]) -> Result<(), String> {
        let (h, body) = record::decode_payload(payload)?;
        self.apply(
            &h,
            offset,
            (log::RECORD_HEADER + payload.len()) as u32,
            body,
        )
    }

    fn last_seqno(&self) -> u64 {
        self.metas.len() as u64
    }

    fn view(&self) -> u64 {
        self.views.last().map_or(FIRST_VIEW, |v| v.0)
    }

    fn view_of(&self, seqno: u64) -> u64 {
        let i = self.views.partition_point(|&(_, first)| first <= seqno);
        self.views
            .get(i.saturating_sub(1))
            .map_or(FIRST_VIEW, |v| v.0)
    }

    fn id(&self, seqno: u64) -> TransactionId {
        TransactionId::new(self.view_of(seqno), seqno)
    }

    /// Highest committed sequence number: the last signature that is durable.
    fn committed(&self, durable: u64) -> u64 {
        let i = self.signatures.partition_point(|&s| s <= durable);
        if i == 0 { 0 } else { self.signatures[i - 1] }
    }

    fn collection_mut(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.collection_index.get(name) {
            return i;
        }
        let i = self.collections.len() as u32;
        self.collections.push(Collection {
            name: name.to_string(),
            ..Collection::default()
        });
        self.collection_index.insert(name.to_string(), i);
        i
    }

    /// Applies a record to the in-memory state (at start-up and for new transactions).
    fn apply(
        &mut self,
        h: &PayloadHeader,
        offset: u64,
        frame_len: u32,
        body: &[u8],
    ) -> Result<(), String> {
        let expected = self.last_seqno() + 1;
        if h.seqno != expected {
            return Err(format!(
                "expected transaction seqno {expected}, found {}",
                h.seqno
            ));
        }
        match self.views.last() {
            Some(&(v, _)) if h.view < v => {
                return Err(format!("view {} after view {v}", h.view));
            }
            Some(&(v, _)) if h.view == v => {}
            _ => self.views.push((h.view, h.seqno)),
        }
        let mut collection = NO_COLLECTION;
        match h.kind {
            KIND_ENTRY => {
                let (name, tags) = record::entry_index(body)?;
                collection = self.collection_mut(name);
                let c = &mut self.collections[collection as usize];
                c.seqnos.push(h.seqno);
                for t in tags {
                    match c.tags.get_mut(t) {
                        Some(list) => list.push(h.seqno),
                        None => {
                            c.tags.insert(t.to_string(), vec![h.seqno]);
                        }
                    }
                }
                self.unsigned += 1;
            }
            KIND_SIGNATURE => {
                let Tx::Signature(sig) = Tx::decode(h.kind, body)? else {
                    return Err("not a signature".into());
                };
                if self.identity.generation(sig.generation).is_none() {
                    return Err(format!(
                        "signed by unknown identity generation {}",
                        sig.generation
                    ));
                }
                match self.tree.root(h.seqno) {
                    Some(root) if root == sig.root => {}
                    _ => return Err("the signed Merkle root does not match the ledger".into()),
                }
                self.signatures.push(h.seqno);
                self.unsigned = 0;
            }
            KIND_GOVERNANCE => {
                let Tx::Governance(op) = Tx::decode(h.kind, body)? else {
                    return Err("not a governance record".into());
                };
                self.apply_governance(op)?;
                self.unsigned += 1;
            }
            other => return Err(format!("unknown record kind {other}")),
        }
        self.tree.push(h.leaf);
        self.metas.push(TxMeta {
            offset,
            len: frame_len,
            kind: h.kind,
            collection,
        });
        self.next_offset = offset + u64::from(frame_len);
        Ok(())
    }

    fn apply_governance(&mut self, op: GovOp) -> Result<(), String> {
        let g = &mut self.gov;
        match op {
            GovOp::Genesis {
                member_certificate,
                constitution,
                users,
            } => {
                g.member_certificate = member_certificate;
                g.constitution = constitution;
                for u in users {
                    g.users.insert(u.user_id, u.roles);
                }
            }
            GovOp::SetUser { user_id, roles } => {
                g.users.insert(user_id, roles);
            }
            GovOp::RemoveUser { user_id } => {
                g.users.remove(&user_id);
            }
            GovOp::SetRoles { roles } => {
                for r in roles {
                    g.roles.insert(r.name, r.actions);
                }
            }
            GovOp::RemoveRole { name } => {
                g.roles.remove(&name);
            }
            GovOp::SetFunction { id, code } => {
                g.functions.insert(id, code);
            }
            GovOp::RemoveFunction { id } => {
                g.functions.remove(&id);
            }
            GovOp::SetEndpoints { bundle } => g.endpoints = Some(bundle),
            GovOp::SetRuntimeOptions { options } => g.runtime_options = options,
            GovOp::KvWrite { writes } => {
                crate::js::kv::apply(&mut g.kv, &writes);
                g.kv_version += 1;
            }
            GovOp::RotateIdentity { generation, .. } => {
                if self.identity.generation(generation).is_none() {
                    return Err(format!(
                        "rotation to unknown identity generation {generation}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The ledger.
pub(crate) struct Ledger {
    dir: PathBuf,
    log_path: PathBuf,
    reader: File,
    state: RwLock<State>,
    writer: LogWriter,
    durable: watch::Receiver<Durability>,
    commit_secret: Hash,
    signature_every: u64,
    /// Woken when enough unsigned transactions piled up.
    pub(crate) sign_requested: Notify,
    /// Set when the in-memory state could not be rebuilt after a storage failure.
    poisoned: std::sync::Mutex<Option<String>>,
    /// How many of the next entry writes are to be rolled back before their commit.
    rollbacks_armed: std::sync::atomic::AtomicU32,
    /// The transactions rolled back that way (kept in memory: after a restart they are
    /// unknown ids).
    rolled_back: std::sync::Mutex<std::collections::HashSet<TransactionId>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("log", &self.log_path)
            .finish_non_exhaustive()
    }
}

/// What opening the ledger found.
#[derive(Clone, Debug)]
pub(crate) struct OpenReport {
    pub(crate) recovery: Recovery,
    pub(crate) created: bool,
}

fn random_secret() -> [u8; 32] {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b
}

impl Ledger {
    /// Opens (or creates) the ledger in `dir` with `identity`, replaying the log. A new ledger
    /// gets its genesis transaction and first signature.
    pub(crate) async fn open(
        dir: &Path,
        identity: Identity,
        signature_every: u64,
        faults: StorageFaults,
    ) -> Result<(Arc<Ledger>, OpenReport), SandboxError> {
        let log_path = dir.join(log::LOG_FILE);
        let commit_secret = hmac_sha256(&identity.ledger_secret, b"Commit Secret");
        let mut state = State::new(identity);
        let path = log_path.clone();
        // Replay is CPU-bound and may take a while for big ledgers.
        let (state, recovery) = tokio::task::spawn_blocking(move || {
            let recovery = log::recover(&path, |offset, payload| state.replay(offset, payload))?;
            state.next_offset = recovery.end;
            Ok::<_, SandboxError>((state, recovery))
        })
        .await
        .map_err(|e| SandboxError::Storage(format!("ledger replay failed: {e}")))??;

        let reader = File::open(&log_path)
            .map_err(|e| SandboxError::io(format!("cannot open {}", log_path.display()), e))?;
        let last = state.last_seqno();
        let (writer, durable) = LogWriter::start(&log_path, &recovery, last, faults)?;
        let created = last == 0;
        let ledger = Arc::new(Ledger {
            dir: dir.to_path_buf(),
            log_path,
            reader,
            state: RwLock::new(state),
            writer,
            durable,
            commit_secret,
            signature_every,
            sign_requested: Notify::new(),
            poisoned: std::sync::Mutex::new(None),
            rollbacks_armed: std::sync::atomic::AtomicU32::new(0),
            rolled_back: std::sync::Mutex::new(std::collections::HashSet::new()),
        });

        if created {
            let (member, admin, view) = {
                let st = ledger.read();
                (
                    st.identity.member_cert_pem().to_string(),
                    st.identity.admin_fingerprint.clone(),
                    st.identity.current().first_view,
                )
            };
            ledger.write().views.push((view, 1));
            let genesis = Tx::Governance(GovOp::Genesis {
                member_certificate: member,
                constitution: CONSTITUTION.to_string(),
                users: vec![UserRoles {
                    user_id: admin,
                    roles: vec!["Administrator".to_string()],
                }],
            });
            ledger.append(genesis).await?;
        } else {
            // An identity generation whose rotation record never made it to the log (a crash
            // in the middle of a rotation): finish the rotation now.
            let pending = {
                let st = ledger.read();
                let current = st.identity.current();
                (current.first_view > st.view()).then(|| (current.index, current.first_view))
            };
            if let Some((index, view)) = pending {
                ledger.finish_rotation(index, view).await?;
            }
        }
        if let Some((_, done)) = ledger.sign_now()? {
            settle(done).await?;
        }
        Ok((ledger, OpenReport { recovery, created }))
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The commit evidence of a transaction.
    fn commit_evidence(&self, id: TransactionId) -> String {
        let nonce = hmac_sha256(&self.commit_secret, id.to_string().as_bytes());
        format!("ce:{id}:{}", hex::encode(nonce))
    }

    /// Appends `tx` under the state lock; returns its id and what will tell whether it became
    /// durable. Does not wait.
    fn append_locked(
        &self,
        st: &mut State,
        tx: &Tx,
    ) -> Result<(TransactionId, Completion), SandboxError> {
        self.ensure_writable_locked(st)?;
        let kind = tx.kind();
        let body = tx.encode_body();
        let wsd = sha256(&[&[kind], &body]);
        let claims = match tx {
            Tx::Entry(e) => entry_claims_digest(&e.claims_secret, &e.collection, &e.contents),
            _ => [0u8; 32],
        };
        let seqno = st.last_seqno() + 1;
        let id = TransactionId::new(st.view(), seqno);
        let ce = self.commit_evidence(id);
        let leaf = sha256(&[&wsd, &sha256(&[ce.as_bytes()]), &claims]);
        let header = PayloadHeader {
            seqno,
            view: id.view,
            leaf,
            kind,
        };
        let frame = log::frame(&record::encode_payload(&header, &body));
        let frame_len = u32::try_from(frame.len())
            .map_err(|_| SandboxError::InvalidArgument("transaction too large".into()))?;
        let offset = st.next_offset;
        // Applied first: a transaction the state rejects is never written.
        st.apply(&header, offset, frame_len, &body)
            .map_err(|why| SandboxError::Storage(format!("internal inconsistency: {why}")))?;
        let done = match self.writer.append(seqno, frame) {
            Ok(done) => done,
            Err(e) => {
                // The writer has stopped (shutting down): the state is now ahead of the log.
                *self.poisoned.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("the ledger writer stopped: {e}"));
                return Err(e);
            }
        };
        if st.unsigned >= self.signature_every {
            self.sign_requested.notify_one();
        }
        Ok((id, done))
    }

    /// Checks that the log accepts writes, first recovering from a failed batch if needed.
    /// Call before computing anything from the state that goes into a new transaction: the
    /// recovery rebuilds the state.
    fn ensure_writable_locked(&self, st: &mut State) -> Result<(), SandboxError> {
        if let Some(why) = &*self.poisoned.lock().unwrap_or_else(|e| e.into_inner()) {
            return Err(SandboxError::StorageOutcomeUnknown(why.clone()));
        }
        let failed = self.durable.borrow().failed.is_some();
        if failed {
            self.recover_locked(st)?;
        }
        Ok(())
    }

    /// After a failed batch: lets the writer accept records again (it has removed the batch,
    /// and refused everything queued after it), rebuilds the state from what the log holds,
    /// and starts a new view so that no transaction id handed out before is issued again.
    fn recover_locked(&self, st: &mut State) -> Result<(), SandboxError> {
        let end = self.writer.reset()?;
        // Transactions past the durable end were refused. If one was more than a signature,
        // its id must never name another transaction: continue in a later view than any used.
        let durable = self.durable_seqno();
        let view_before = st.view();
        let refused_entries = st
            .metas
            .iter()
            .skip(usize::try_from(durable).unwrap_or(usize::MAX))
            .any(|m| m.kind != KIND_SIGNATURE);
        st.clear();
        let replayed = log::replay(&self.log_path, end, |offset, payload| {
            st.replay(offset, payload)
        });
        let consistent = match &replayed {
            Ok(_) if st.last_seqno() == durable => Ok(()),
            Ok(_) => Err(format!(
                "the ledger file holds {} transactions, {durable} were acknowledged",
                st.last_seqno()
            )),
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = consistent {
            let why = format!(
                "cannot rebuild the ledger after a storage failure ({why}); restart the sandbox"
            );
            tracing::error!("{why}");
            *self.poisoned.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.clone());
            return Err(SandboxError::StorageOutcomeUnknown(why));
        }
        st.next_offset = end;
        let view = view_before + u64::from(refused_entries);
        if view > st.view() {
            st.views.push((view, st.last_seqno() + 1));
        }
        tracing::info!(
            view,
            transactions = st.last_seqno(),
            "the ledger accepts writes again after a storage failure"
        );
        Ok(())
    }

    /// Appends a transaction and waits until it is durable.
    pub(crate) async fn append(&self, tx: Tx) -> Result<TransactionId, SandboxError> {
        let (id, done) = {
            let mut st = self.write();
            self.append_locked(&mut st, &tx)?
        };
        settle(done).await?;
        Ok(id)
    }

    /// Appends a new entry and waits until it is durable. With `claims`, its receipt carries
    /// a `LedgerEntryV1` application claim; without, its claims digest is all zero.
    pub(crate) async fn append_entry(
        &self,
        collection: &str,
        contents: String,
        tags: Vec<String>,
        claims: bool,
    ) -> Result<TransactionId, SandboxError> {
        self.append(Tx::Entry(Entry {
            collection: collection.to_string(),
            contents,
            tags,
            claims_secret: if claims {
                random_secret()
            } else {
                crate::claims::NO_CLAIMS
            },
        }))
        .await
    }

    fn sign_locked(&self, st: &mut State) -> Result<Option<(u64, Completion)>, SandboxError> {
        self.ensure_writable_locked(st)?;
        if st.unsigned == 0 {
            return Ok(None);
        }
        let seqno = st.last_seqno() + 1;
        let root = st.tree.root(seqno).ok_or_else(|| {
            SandboxError::Storage("the Merkle tree is shorter than the ledger".into())
        })?;
        let generation = st.identity.current().clone();
        let signature: Signature = generation
            .node_signing_key
            .sign_prehash(&root)
            .map_err(|e| SandboxError::Identity(format!("cannot sign the Merkle root: {e}")))?;
        let tx = Tx::Signature(SignatureTx {
            generation: generation.index,
            root,
            signature: signature.to_der().as_bytes().to_vec(),
        });
        let (id, done) = self.append_locked(st, &tx)?;
        Ok(Some((id.seqno, done)))
    }

    /// Emits a signature transaction if there are unsigned transactions; returns its seqno
    /// and its completion.
    pub(crate) fn sign_now(&self) -> Result<Option<(u64, Completion)>, SandboxError> {
        let mut st = self.write();
        self.sign_locked(&mut st)
    }

    /// Rotates the service identity: signs what the old identity covers, starts a new view
    /// signed by a new identity that endorses the old one, persists it.
    pub(crate) async fn rotate_identity(&self) -> Result<Arc<Generation>, SandboxError> {
        let (index, view) = {
            let mut st = self.write();
            self.sign_locked(&mut st)?;
            let view = st.view() + 1;
            let next = st.identity.next_generation(view)?;
            let index = next.index;
            st.identity.generations.push(Arc::new(next));
            if let Err(e) = st.identity.save(&self.dir) {
                st.identity.generations.pop();
                return Err(e);
            }
            (index, view)
        };
        if let Err(e) = self.finish_rotation(index, view).await {
            // The rotation record was refused (not in the log): forget the new generation, or
            // the node would sign with a key no record introduced. With an unknown outcome the
            // generation stays; the rotation is finished at the next start if it is missing.
            if matches!(e, SandboxError::Storage(_)) {
                let mut st = self.write();
                if st.identity.current().index == index {
                    st.identity.generations.pop();
                    if let Err(save) = st.identity.save(&self.dir) {
                        tracing::error!("cannot undo the refused rotation: {save}");
                    }
                }
            }
            return Err(e);
        }
        Ok(self.read().identity.current().clone())
    }

    /// Records the switch to generation `index` in `view` and signs with it.
    async fn finish_rotation(&self, index: u32, view: u64) -> Result<(), SandboxError> {
        let last = {
            let mut st = self.write();
            self.ensure_writable_locked(&mut st)?;
            let next = st.last_seqno() + 1;
            let view = view.max(st.view() + 1);
            st.views.push((view, next));
            let certificate = st.identity.current().service_cert_pem.clone();
            let tx = Tx::Governance(GovOp::RotateIdentity {
                generation: index,
                service_certificate: certificate,
            });
            let (_, rotated) = match self.append_locked(&mut st, &tx) {
                Ok(appended) => appended,
                Err(e) => {
                    // Nothing was appended in the new view.
                    if st.views.last() == Some(&(view, next)) {
                        st.views.pop();
                    }
                    return Err(e);
                }
            };
            // The signer retries a signature that cannot be written now.
            let signed = match self.sign_locked(&mut st) {
                Ok(signed) => signed.map(|(_, done)| done),
                Err(e) => {
                    tracing::warn!("cannot sign the rotation yet: {e}");
                    None
                }
            };
            (rotated, signed)
        };
        // The rotation happened once its record is durable.
        settle(last.0).await?;
        if let Some(signed) = last.1
            && let Err(e) = settle(signed).await
        {
            tracing::warn!("the signature after the rotation was not written: {e}");
        }
        Ok(())
    }

    /// Reissues certificates that are about to expire (same keys). Returns whether they changed.
    pub(crate) fn renew_certificates(&self) -> Result<bool, SandboxError> {
        let mut st = self.write();
        let changed = st.identity.renew_if_expiring()?;
        if changed {
            st.identity.save(&self.dir)?;
        }
        Ok(changed)
    }

    /// Closes the log: everything queued is written and synced.
    pub(crate) fn close(&self) {
        self.writer.close();
    }

    /// Group-commit statistics: `(batches, records)`.
    pub(crate) fn write_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.writer.stats.batches.load(Relaxed),
            self.writer.stats.records.load(Relaxed),
        )
    }

    fn durable_seqno(&self) -> u64 {
        self.durable.borrow().seqno
    }

    /// The id of the latest durable transaction.
    pub(crate) fn latest(&self) -> TransactionId {
        let durable = self.durable_seqno();
        let st = self.read();
        let seqno = durable.min(st.last_seqno());
        if seqno == 0 {
            return TransactionId::new(st.view(), 0);
        }
        st.id(seqno)
    }

    /// Checks that `id` names a durable transaction of this ledger; returns its seqno.
    fn validate(&self, st: &State, durable: u64, id: TransactionId) -> Result<u64, LookupError> {
        let last = durable.min(st.last_seqno());
        if id.seqno == 0 || id.seqno > last {
            return Err(LookupError::InvalidTransactionId(format!(
                "Transaction ID {id} does not exist: the latest transaction is {}",
                if last == 0 {
                    "none".to_string()
                } else {
                    st.id(last).to_string()
                }
            )));
        }
        let view = st.view_of(id.seqno);
        if view != id.view {
            return Err(LookupError::InvalidTransactionId(format!(
                "Transaction ID {id} is invalid: transaction {} is in view {view}",
                id.seqno
            )));
        }
        Ok(id.seqno)
    }

    /// Arms the rollback switch: the next `writes` entry writes are rolled back before their
    /// commit (added to what is already armed).
    pub(crate) fn arm_rollbacks(&self, writes: u32) {
        let _ = self.rollbacks_armed.fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| Some(n.saturating_add(writes)),
        );
    }

    /// Takes one armed rollback, if any.
    pub(crate) fn take_rollback(&self) -> bool {
        self.rollbacks_armed
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok()
    }

    /// Rolls back the write that would come next, as CCF does when an election happens before
    /// its commit: it gets the next transaction id, is never stored, and the ledger moves to a
    /// new view, so the next write reuses the sequence number under the new view. The id's
    /// status is then `Invalid`.
    pub(crate) fn roll_back_next(&self) -> Result<TransactionId, SandboxError> {
        let mut st = self.write();
        self.ensure_writable_locked(&mut st)?;
        let seqno = st.last_seqno() + 1;
        let id = TransactionId::new(st.view(), seqno);
        let view = st.view() + 1;
        st.views.push((view, seqno));
        self.rolled_back
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id);
        Ok(id)
    }

    /// Commit state of a transaction.
    pub(crate) fn status(&self, id: TransactionId) -> Result<TxState, LookupError> {
        if self
            .rolled_back
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&id)
        {
            return Ok(TxState::Invalid);
        }
        let durable = self.durable_seqno();
        let st = self.read();
        let seqno = self.validate(&st, durable, id)?;
        Ok(if seqno <= st.committed(durable) {
            TxState::Committed
        } else {
            TxState::Pending
        })
    }

    /// Waits until `id` is committed or `timeout` passes; returns whether it committed.
    pub(crate) async fn wait_committed(
        &self,
        id: TransactionId,
        timeout: Duration,
    ) -> Result<bool, LookupError> {
        let mut rx = self.durable.clone();
        let wait = async {
            loop {
                if self.status(id)? == TxState::Committed {
                    return Ok(true);
                }
                if rx.changed().await.is_err() {
                    return Err(LookupError::Storage(SandboxError::ShuttingDown));
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(r) => r,
            Err(_) => Ok(false),
        }
    }

    fn read_tx(&self, meta: TxMeta) -> Result<(PayloadHeader, Vec<u8>, Tx), SandboxError> {
        let payload = log::read_record(&self.reader, &self.log_path, meta.offset, meta.len)?;
        let corrupt = |why: String| SandboxError::Corrupt {
            path: self.log_path.clone(),
            offset: meta.offset,
            reason: why,
        };
        let (h, body) = record::decode_payload(&payload).map_err(corrupt)?;
        let tx = Tx::decode(h.kind, body).map_err(corrupt)?;
        let body = body.to_vec();
        Ok((h, body, tx))
    }

    fn entry_of(&self, id: TransactionId, meta: TxMeta) -> Result<EntryView, SandboxError> {
        match self.read_tx(meta)? {
            (_, _, Tx::Entry(e)) => Ok(EntryView {
                id,
                collection: e.collection,
                contents: e.contents,
            }),
            _ => Err(SandboxError::Corrupt {
                path: self.log_path.clone(),
                offset: meta.offset,
                reason: "expected an entry record".into(),
            }),
        }
    }

    /// The committed entry at `id` in `collection`.
    pub(crate) fn entry(
        &self,
        id: TransactionId,
        collection: &str,
    ) -> Result<EntryView, LookupError> {
        let durable = self.durable_seqno();
        let meta = {
            let st = self.read();
            let seqno = self.validate(&st, durable, id)?;
            if seqno > st.committed(durable) {
                return Err(LookupError::Pending(id));
            }
            let meta = st.metas[(seqno - 1) as usize];
            let matches = meta.kind == KIND_ENTRY
                && st
                    .collections
                    .get(meta.collection as usize)
                    .is_some_and(|c| c.name == collection);
            if !matches {
                return Err(LookupError::NoEntry {
                    id,
                    collection: collection.to_string(),
                });
            }
            meta
        };
        Ok(self.entry_of(id, meta)?)
    }

    /// The latest durable entry of `collection`.
    pub(crate) fn current(&self, collection: &str) -> Result<Option<EntryView>, SandboxError> {
        let durable = self.durable_seqno();
        let (id, meta) = {
            let st = self.read();
            let Some(&c) = st.collection_index.get(collection) else {
                return Ok(None);
            };
            let seqnos = &st.collections[c as usize].seqnos;
            let i = seqnos.partition_point(|&s| s <= durable);
            if i == 0 {
                return Ok(None);
            }
            let seqno = seqnos[i - 1];
            (st.id(seqno), st.metas[(seqno - 1) as usize])
        };
        self.entry_of(id, meta).map(Some)
    }

    /// Resolves the bounds of a ranged query: `(first seqno, last seqno)` over committed
    /// transactions. `from`/`to` default to the start and the latest committed transaction.
    pub(crate) fn range_bounds(
        &self,
        from: Option<TransactionId>,
        to: Option<TransactionId>,
    ) -> Result<(u64, u64), LookupError> {
        let durable = self.durable_seqno();
        let st = self.read();
        let committed = st.committed(durable);
        let from = match from {
            Some(id) => self.validate(&st, durable, id)?,
            None => 1,
        };
        let to = match to {
            Some(id) => self.validate(&st, durable, id)?.min(committed),
            None => committed,
        };
        Ok((from, to))
    }

    /// Seqnos of `collection` (optionally with `tag`) in `[from, to]`, at most `limit`, and the
    /// seqno where the next page starts.
    pub(crate) fn range_seqnos(
        &self,
        collection: &str,
        tag: Option<&str>,
        from: u64,
        to: u64,
        limit: usize,
    ) -> (Vec<TransactionId>, Option<TransactionId>) {
        let st = self.read();
        let Some(&c) = st.collection_index.get(collection) else {
            return (Vec::new(), None);
        };
        let c = &st.collections[c as usize];
        let list: &[u64] = match tag {
            Some(t) => c.tags.get(t).map_or(&[], |v| v.as_slice()),
            None => &c.seqnos,
        };
        let start = list.partition_point(|&s| s < from);
        let mut ids = Vec::new();
        let mut next = None;
        for &s in list[start..].iter().take_while(|&&s| s <= to) {
            if ids.len() == limit {
                next = Some(st.id(s));
                break;
            }
            ids.push(st.id(s));
        }
        (ids, next)
    }

    /// The first seqno of `collection` (optionally with `tag`) at or after `from`.
    pub(crate) fn first_in(&self, collection: &str, tag: Option<&str>) -> Option<TransactionId> {
        let durable = self.durable_seqno();
        let st = self.read();
        let c = &st.collections[*st.collection_index.get(collection)? as usize];
        let first = match tag {
            Some(t) => *c.tags.get(t)?.first()?,
            None => *c.seqnos.first()?,
        };
        (first <= durable).then(|| st.id(first))
    }

    /// Reads the entries at `ids` (which must be entries; from [`Ledger::range_seqnos`]).
    pub(crate) fn read_entries(
        &self,
        ids: &[TransactionId],
    ) -> Result<Vec<EntryView>, SandboxError> {
        let metas: Vec<TxMeta> = {
            let st = self.read();
            ids.iter()
                .map(|id| st.metas[(id.seqno - 1) as usize])
                .collect()
        };
        ids.iter()
            .zip(metas)
            .map(|(id, meta)| self.entry_of(*id, meta))
            .collect()
    }

    /// Names of collections with at least one durable entry, sorted.
    pub(crate) fn collections(&self) -> Vec<String> {
        let durable = self.durable_seqno();
        let st = self.read();
        let mut names: Vec<String> = st
            .collections
            .iter()
            .filter(|c| c.seqnos.first().is_some_and(|&s| s <= durable))
            .map(|c| c.name.clone())
            .collect();
        names.sort();
        names
    }

    /// Tags used in `collection`, sorted.
    pub(crate) fn tags(&self, collection: &str) -> Vec<String> {
        let durable = self.durable_seqno();
        let st = self.read();
        match st.collection_index.get(collection) {
            Some(&c) => st.collections[c as usize]
                .tags
                .iter()
                .filter(|(_, seqnos)| seqnos.first().is_some_and(|&s| s <= durable))
                .map(|(t, _)| t.clone())
                .collect(),
            None => Vec::new(),
        }
    }

    /// Everything needed for the receipt of committed transaction `id`.
    pub(crate) fn receipt(&self, id: TransactionId) -> Result<ReceiptData, LookupError> {
        let durable = self.durable_seqno();
        let (meta, sig_meta, sig_seqno, proof, root, generation, endorsements) = {
            let st = self.read();
            let seqno = self.validate(&st, durable, id)?;
            if seqno > st.committed(durable) {
                return Err(LookupError::Pending(id));
            }
            let meta = st.metas[(seqno - 1) as usize];
            // The signature that covers the transaction: itself, or the first one after it.
            let i = st.signatures.partition_point(|&s| s < seqno);
            let sig_seqno = st.signatures.get(i).copied().ok_or_else(|| {
                SandboxError::Storage(format!("no signature covers committed transaction {id}"))
            })?;
            let is_signature = sig_seqno == seqno;
            let (proof, root) = if is_signature {
                (Vec::new(), None)
            } else {
                let proof = st
                    .tree
                    .path(seqno, sig_seqno)
                    .ok_or_else(|| SandboxError::Storage(format!("no inclusion path for {id}")))?;
                (proof, st.tree.root(sig_seqno))
            };
            let sig_meta = st.metas[(sig_seqno - 1) as usize];
            let (_, _, sig_tx) = self.read_tx(sig_meta)?;
            let Tx::Signature(sig) = sig_tx else {
                return Err(SandboxError::Storage("expected a signature record".into()).into());
            };
            let generation = st
                .identity
                .generation(sig.generation)
                .cloned()
                .ok_or_else(|| {
                    SandboxError::Storage(format!("unknown identity generation {}", sig.generation))
                })?;
            let endorsements = st.identity.endorsements_since(sig.generation);
            (meta, sig, sig_seqno, proof, root, generation, endorsements)
        };
        if let Some(root) = root
            && root != sig_meta.root
        {
            return Err(SandboxError::Storage(format!(
                "the Merkle root signed at seqno {sig_seqno} does not match the tree"
            ))
            .into());
        }
        let (h, body, tx) = self.read_tx(meta)?;
        let write_set_digest = sha256(&[&[h.kind], &body]);
        let entry = match tx {
            Tx::Entry(e) => Some(e),
            _ => None,
        };
        let claims_digest = entry.as_ref().map_or([0u8; 32], |e| {
            entry_claims_digest(&e.claims_secret, &e.collection, &e.contents)
        });
        let commit_evidence = self.commit_evidence(id);
        let leaf = sha256(&[
            &write_set_digest,
            &sha256(&[commit_evidence.as_bytes()]),
            &claims_digest,
        ]);
        if leaf != h.leaf {
            return Err(SandboxError::Storage(format!(
                "the leaf of {id} does not match its record"
            ))
            .into());
        }
        Ok(ReceiptData {
            id,
            is_signature: h.kind == KIND_SIGNATURE,
            write_set_digest,
            commit_evidence,
            claims_digest,
            signed_root: sig_meta.root,
            proof,
            signature: sig_meta.signature,
            node_cert_pem: generation.node_cert_pem.clone(),
            node_id: generation.node_id.clone(),
            endorsements,
            entry,
        })
    }

    /// Reads a piece of the governance state.
    pub(crate) fn with_governance<T>(&self, f: impl FnOnce(&Governance) -> T) -> T {
        f(&self.read().gov)
    }

    /// Reads the identities.
    pub(crate) fn with_identity<T>(&self, f: impl FnOnce(&Identity) -> T) -> T {
        f(&self.read().identity)
    }

    /// The current identity generation.
    pub(crate) fn current_generation(&self) -> Arc<Generation> {
        self.read().identity.current().clone()
    }

    /// Applies a governance change after checking it against the current state with `check`
    /// (under the lock, so check and change are atomic). Waits until durable.
    pub(crate) async fn govern<E>(
        &self,
        check: impl FnOnce(&Governance) -> Result<GovOp, E>,
    ) -> Result<Result<TransactionId, E>, SandboxError> {
        let id = {
            let mut st = self.write();
            let op = match check(&st.gov) {
                Ok(op) => op,
                Err(e) => return Ok(Err(e)),
            };
            self.append_locked(&mut st, &Tx::Governance(op))?
        };
        settle(id.1).await?;
        Ok(Ok(id.0))
    }

    /// Number of transactions.
    pub(crate) fn len(&self) -> u64 {
        self.read().last_seqno()
    }
}

/// Waits for a queued record's fate: `Ok` once durable, [`SandboxError::Storage`] when it was
/// refused (not in the ledger), [`SandboxError::StorageOutcomeUnknown`] when its removal could
/// not be made durable.
async fn settle(done: Completion) -> Result<(), SandboxError> {
    match done.await {
        Ok(Outcome::Durable) => Ok(()),
        Ok(Outcome::Refused(why)) => Err(SandboxError::Storage(why.to_string())),
        Ok(Outcome::Unknown(why)) => Err(SandboxError::StorageOutcomeUnknown(why.to_string())),
        Err(_) => Err(SandboxError::StorageOutcomeUnknown(
            "the ledger writer stopped before the write was synced".into(),
        )),
    }
}

/// Emits signatures every `interval` (the first one interval from now) while there are
/// unsigned transactions, and whenever [`Ledger::sign_requested`] fires. Ends when `shutdown`
/// turns true.
pub(crate) async fn run_signer(
    ledger: Arc<Ledger>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    // The first round is one interval after the start (which signed what start-up wrote).
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = ledger.sign_requested.notified() => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
        if let Err(e) = ledger.sign_now() {
            tracing::error!("cannot emit a signature: {e}");
        }
    }
}

/// Appends `SEQNO UNIX_MICROSECONDS` to `log` each time the committed end of the ledger
/// moves (status reads answer `Committed` up to `SEQNO` from then on), until `shutdown` turns
/// true. A write that fails ends the log, with a warning.
pub(crate) async fn run_commit_log(
    ledger: Arc<Ledger>,
    mut log: std::fs::File,
    mut shutdown: watch::Receiver<bool>,
) {
    use std::io::Write;

    let mut durable = ledger.durable.clone();
    let mut logged = 0;
    loop {
        let committed = ledger.read().committed(ledger.durable_seqno());
        if committed > logged {
            logged = committed;
            let micros = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_micros());
            if let Err(e) = writeln!(log, "{committed} {micros}") {
                tracing::warn!("the commit log stops: {e}");
                return;
            }
        }
        tokio::select! {
            changed = durable.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
