//! IAM roles and policies, as deploy scripts create them before a
//! function: stored faithfully on the engine's [`Store`]
//! (`docs/storage.md`, "IAM"), returned as IAM returns them, and not
//! enforced (Tarn accepts any credentials unless authentication is on).
//!
//! IAM is global: one set of roles and customer managed policies per
//! server. Names are unique without regard to case, as in IAM. AWS
//! managed policies (`arn:aws:iam::aws:policy/...`) are attachable
//! without being created. Changes are serialized by one lock, held across
//! the batch's commit (not its sync).

#![forbid(unsafe_code)]

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tarn_core::record::{Corrupt, Reader, Writer};
use tarn_engine::store::{Direction, KeyRange, Keyspace};
use tarn_engine::{Deferred, Store};

const ROLES: &str = "iam_roles";
const ROLE_POLICIES: &str = "iam_role_policies";
const ATTACHED: &str = "iam_attached";
const POLICIES: &str = "iam_policies";
const IDS: &str = "iam_ids";
const VERSION: u8 = 1;

/// Versions a managed policy keeps at most.
pub const POLICY_VERSIONS_MAX: usize = 5;

/// Errors of the IAM model, worded as IAM words them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// NoSuchEntity: no role of that name.
    #[error("The role with name {0} cannot be found.")]
    NoSuchRole(String),
    /// NoSuchEntity: the role has no inline policy of that name.
    #[error("The role policy with name {0} cannot be found.")]
    NoSuchRolePolicy(String),
    /// NoSuchEntity: no managed policy of that ARN.
    #[error("Policy {0} does not exist or is not attachable.")]
    NoSuchPolicy(String),
    /// NoSuchEntity: the policy has no such version.
    #[error("Policy {0} version {1} does not exist or is not attachable.")]
    NoSuchPolicyVersion(String, String),
    /// NoSuchEntity: the policy is not attached to the role.
    #[error("Policy {0} was not found.")]
    NotAttached(String),
    /// EntityAlreadyExists: a role of that name exists.
    #[error("Role with name {0} already exists.")]
    RoleExists(String),
    /// EntityAlreadyExists: a policy of that name exists.
    #[error("A policy called {0} already exists. Duplicate names are not allowed.")]
    PolicyExists(String),
    /// DeleteConflict: the role has managed policies attached.
    #[error("Cannot delete entity, must detach all policies first.")]
    RoleHasAttached,
    /// DeleteConflict: the role has inline policies.
    #[error("Cannot delete entity, must delete policies first.")]
    RoleHasInline,
    /// LimitExceeded: the policy has its most versions.
    #[error("A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")]
    TooManyVersions,
    /// DeleteConflict: the default version cannot be deleted.
    #[error("Cannot delete the default version of a policy.")]
    DefaultVersion,
    /// DeleteConflict: the policy is attached to roles.
    #[error("Cannot delete a policy attached to entities.")]
    PolicyAttached,
    /// MalformedPolicyDocument.
    #[error("{0}")]
    Malformed(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tarn_engine::Error),
    /// A stored record does not decode.
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
}

/// A role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// Its name, as created.
    pub name: String,
    /// Its path (`/` unless given).
    pub path: String,
    /// Its id: `AROA` and 17 characters.
    pub id: String,
    /// When it was created, ms since the epoch.
    pub created_ms: u64,
    /// The trust policy, as sent.
    pub assume_role_policy: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Longest session, seconds.
    pub max_session_s: u32,
    /// Its tags, in order.
    pub tags: Vec<(String, String)>,
}

/// One version of a managed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ... as a number.
    pub number: u32,
    /// When it was created.
    pub created_ms: u64,
    /// The document, as sent.
    pub document: String,
}

/// A customer managed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// Its id: `ANPA` and 17 characters.
    pub id: String,
    /// When it was created.
    pub created_ms: u64,
    /// When its default version last changed.
    pub updated_ms: u64,
    /// Its description, if any.
    pub description: Option<String>,
    /// The default version's number.
    pub default_version: u32,
    /// Its versions, oldest first.
    pub versions: Vec<PolicyVersion>,
    /// Its tags.
    pub tags: Vec<(String, String)>,
}

/// IAM over one store. Cheap to clone.
#[derive(Clone)]
pub struct Iam {
    store: Store,
    account: String,
    roles: Keyspace,
    role_policies: Keyspace,
    attached: Keyspace,
    policies: Keyspace,
    lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Iam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iam").finish_non_exhaustive()
    }
}

/// Checks a policy document as IAM first does: JSON, an object, with a
/// `Statement`.
pub fn check_document(doc: &str) -> Result<(), Error> {
    let v: serde_json::Value = serde_json::from_str(doc)
        .map_err(|_| Error::Malformed("This policy contains invalid Json"))?;
    match v.as_object() {
        Some(o) if o.contains_key("Statement") => Ok(()),
        _ => Err(Error::Malformed("Syntax errors in policy.")),
    }
}

fn lower(name: &str) -> Vec<u8> {
    name.to_ascii_lowercase().into_bytes()
}

fn sub_key(role: &str, name: &str) -> Vec<u8> {
    let mut k = lower(role);
    k.push(0);
    k.extend_from_slice(name.as_bytes());
    k
}

fn tags_out(mut w: Writer, tags: &[(String, String)]) -> Writer {
    w = w.u32(tags.len() as u32);
    for (k, v) in tags {
        w = w.str(k).str(v);
    }
    w
}

fn tags_in(r: &mut Reader<'_>) -> Result<Vec<(String, String)>, Corrupt> {
    let n = r.count(8)?;
    let mut tags = Vec::with_capacity(n);
    for _ in 0..n {
        let k = r.str()?.to_owned();
        tags.push((k, r.str()?.to_owned()));
    }
    Ok(tags)
}

fn role_value(r: &Role) -> Vec<u8> {
    let w = Writer::new(VERSION)
        .str(&r.name)
        .str(&r.path)
        .str(&r.id)
        .u64(r.created_ms)
        .str(&r.assume_role_policy)
        .str(r.description.as_deref().unwrap_or(""))
        .u32(r.max_session_s);
    tags_out(w, &r.tags).finish()
}

fn decode_role(v: &[u8]) -> Result<Role, Corrupt> {
    let mut r = Reader::new(v, VERSION, "IAM role")?;
    let role = Role {
        name: r.str()?.to_owned(),
        path: r.str()?.to_owned(),
        id: r.str()?.to_owned(),
        created_ms: r.u64()?,
        assume_role_policy: r.str()?.to_owned(),
        description: Some(r.str()?.to_owned()).filter(|d| !d.is_empty()),
        max_session_s: r.u32()?,
        tags: tags_in(&mut r)?,
    };
    r.end()?;
    Ok(role)
}

fn policy_value(p: &Policy) -> Vec<u8> {
    let mut w = Writer::new(VERSION)
        .str(&p.name)
        .str(&p.path)
        .str(&p.id)
        .u64(p.created_ms)
        .u64(p.updated_ms)
        .str(p.description.as_deref().unwrap_or(""))
        .u32(p.default_version)
        .u32(p.versions.len() as u32);
    for v in &p.versions {
        w = w.u32(v.number).u64(v.created_ms).str(&v.document);
    }
    tags_out(w, &p.tags).finish()
}

fn decode_policy(v: &[u8]) -> Result<Policy, Corrupt> {
    let mut r = Reader::new(v, VERSION, "IAM policy")?;
    let name = r.str()?.to_owned();
    let path = r.str()?.to_owned();
    let id = r.str()?.to_owned();
    let created_ms = r.u64()?;
    let updated_ms = r.u64()?;
    let description = Some(r.str()?.to_owned()).filter(|d| !d.is_empty());
    let default_version = r.u32()?;
    let n = r.count(16)?;
    let mut versions = Vec::with_capacity(n);
    for _ in 0..n {
        versions.push(PolicyVersion {
            number: r.u32()?,
            created_ms: r.u64()?,
            document: r.str()?.to_owned(),
        });
    }
    let tags = tags_in(&mut r)?;
    r.end()?;
    Ok(Policy {
        name,
        path,
        id,
        created_ms,
        updated_ms,
        description,
        default_version,
        versions,
        tags,
    })
}

/// An IAM unique id: `prefix` and 17 characters of `[A-Z2-7]` from a
/// hash of the account, the kind and a never-reused counter value.
fn unique_id(prefix: &str, account: &str, n: u64) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h = blake3::Hasher::new();
    h.update(account.as_bytes());
    h.update(prefix.as_bytes());
    h.update(&n.to_be_bytes());
    let hash = h.finalize();
    let mut id = String::with_capacity(prefix.len() + 17);
    id.push_str(prefix);
    for b in &hash.as_bytes()[..17] {
        id.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    id
}

/// The number of version `v<n>` if the policy has it.
pub fn version_number(versions: &[PolicyVersion], version: &str) -> Option<u32> {
    let n = version.strip_prefix('v')?.parse::<u32>().ok()?;
    versions.iter().any(|v| v.number == n).then_some(n)
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A new role's settings.
#[derive(Clone, Debug, Default)]
pub struct NewRole {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// The trust policy.
    pub assume_role_policy: String,
    /// Its description.
    pub description: Option<String>,
    /// Longest session, seconds.
    pub max_session_s: u32,
    /// Its tags.
    pub tags: Vec<(String, String)>,
}

impl Iam {
    /// Opens IAM in `store` for `account`.
    pub fn open(store: &Store, account: &str) -> Result<Iam, Error> {
        Ok(Iam {
            store: store.clone(),
            account: account.to_owned(),
            roles: store.keyspace(ROLES)?,
            role_policies: store.keyspace(ROLE_POLICIES)?,
            attached: store.keyspace(ATTACHED)?,
            policies: store.keyspace(POLICIES)?,
            lock: Arc::new(Mutex::new(())),
        })
    }

    /// The role `name` (any case).
    pub fn role(&self, name: &str) -> Result<Role, Error> {
        match self.store.get(&self.roles, &lower(name))? {
            Some(v) => Ok(decode_role(&v)?),
            None => Err(Error::NoSuchRole(name.to_owned())),
        }
    }

    /// Creates a role.
    pub fn create_role(&self, new: NewRole, now_ms: u64) -> Result<Deferred<Role>, Error> {
        check_document(&new.assume_role_policy)?;
        let _g = lock(&self.lock);
        let key = lower(&new.name);
        if self.store.get(&self.roles, &key)?.is_some() {
            return Err(Error::RoleExists(new.name));
        }
        let mut batch = self.store.batch();
        let n = batch.allocate(IDS)?;
        let role = Role {
            id: unique_id("AROA", &self.account, n),
            name: new.name,
            path: new.path,
            created_ms: now_ms,
            assume_role_policy: new.assume_role_policy,
            description: new.description,
            max_session_s: new.max_session_s,
            tags: new.tags,
        };
        batch.insert(&self.roles, &key, &role_value(&role))?;
        Ok(batch.commit()?.map(|()| role))
    }

    /// Changes a role with `f` (UpdateRole, UpdateAssumeRolePolicy, tags).
    pub fn update_role(
        &self,
        name: &str,
        f: impl FnOnce(&mut Role),
    ) -> Result<Deferred<Role>, Error> {
        let _g = lock(&self.lock);
        let mut role = self.role(name)?;
        f(&mut role);
        check_document(&role.assume_role_policy)?;
        let mut batch = self.store.batch();
        batch.insert(&self.roles, &lower(name), &role_value(&role))?;
        Ok(batch.commit()?.map(|()| role))
    }

    /// Deletes a role that has no policies.
    pub fn delete_role(&self, name: &str) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        self.role(name)?;
        let prefix = sub_key(name, "");
        let range = KeyRange::prefix(&prefix);
        if !self
            .store
            .scan(&self.attached, &range, Direction::Forward, 1)?
            .is_empty()
        {
            return Err(Error::RoleHasAttached);
        }
        if !self
            .store
            .scan(&self.role_policies, &range, Direction::Forward, 1)?
            .is_empty()
        {
            return Err(Error::RoleHasInline);
        }
        let mut batch = self.store.batch();
        batch.remove(&self.roles, &lower(name))?;
        Ok(batch.commit()?)
    }

    /// A page of the records of `ks` after the name `after`, in name
    /// order: at most `limit` of those `keep` decodes to `Some`, and
    /// whether more follow.
    fn page<T>(
        &self,
        ks: &Keyspace,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&[u8]) -> Result<Option<T>, Corrupt>,
    ) -> Result<(Vec<T>, bool), Error> {
        let mut range = KeyRange::all();
        if let Some(a) = after {
            range = range.after(&lower(a));
        }
        let mut out = Vec::new();
        for e in self.store.iter(ks, &range, Direction::Forward) {
            let Some(item) = keep(&e?.value)? else {
                continue;
            };
            if out.len() == limit {
                return Ok((out, true));
            }
            out.push(item);
        }
        Ok((out, false))
    }

    /// Roles whose path starts with `path_prefix`, after the role named
    /// `after`, in name order: at most `limit`, and whether more follow.
    pub fn roles(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Role>, bool), Error> {
        self.page(&self.roles, after, limit, |v| {
            decode_role(v).map(|r| r.path.starts_with(path_prefix).then_some(r))
        })
    }

    /// Adds or replaces an inline policy of a role.
    pub fn put_role_policy(
        &self,
        role: &str,
        policy: &str,
        document: &str,
    ) -> Result<Deferred<()>, Error> {
        check_document(document)?;
        let _g = lock(&self.lock);
        self.role(role)?;
        let mut batch = self.store.batch();
        let v = Writer::new(VERSION).str(policy).str(document).finish();
        batch.insert(&self.role_policies, &sub_key(role, policy), &v)?;
        Ok(batch.commit()?)
    }

    /// An inline policy's document.
    pub fn role_policy(&self, role: &str, policy: &str) -> Result<String, Error> {
        self.role(role)?;
        match self
            .store
            .get(&self.role_policies, &sub_key(role, policy))?
        {
            Some(v) => {
                let mut r = Reader::new(&v, VERSION, "IAM role policy")?;
                r.str()?;
                let doc = r.str()?.to_owned();
                r.end()?;
                Ok(doc)
            }
            None => Err(Error::NoSuchRolePolicy(policy.to_owned())),
        }
    }

    /// Deletes an inline policy.
    pub fn delete_role_policy(&self, role: &str, policy: &str) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        self.role_policy(role, policy)?;
        let mut batch = self.store.batch();
        batch.remove(&self.role_policies, &sub_key(role, policy))?;
        Ok(batch.commit()?)
    }

    /// The names of a role's inline policies, in order.
    pub fn role_policies(&self, role: &str) -> Result<Vec<String>, Error> {
        self.of_role(&self.role_policies, role, "IAM role policy")
    }

    /// What follows a role's prefix in the keys of `ks` (policy names,
    /// attached ARNs), in order.
    fn of_role(&self, ks: &Keyspace, role: &str, what: &'static str) -> Result<Vec<String>, Error> {
        self.role(role)?;
        let prefix = sub_key(role, "");
        let mut out = Vec::new();
        for e in self
            .store
            .iter(ks, &KeyRange::prefix(&prefix), Direction::Forward)
        {
            let e = e?;
            let name = std::str::from_utf8(&e.key[prefix.len()..]).map_err(|_| Corrupt(what))?;
            out.push(name.to_owned());
        }
        Ok(out)
    }

    /// Whether `arn` names an attachable policy: an AWS managed one or one
    /// of ours that exists.
    fn attachable(&self, arn: &str, arns: &tarn_core::arn::Arns) -> Result<(), Error> {
        use tarn_core::arn::PolicyOwner;
        match arns.policy_in(arn) {
            Some((PolicyOwner::Aws, _, _)) => Ok(()),
            Some((PolicyOwner::Account, path, name)) => match self.policy_by_name(name)? {
                Some(p) if p.path == path => Ok(()),
                _ => Err(Error::NoSuchPolicy(arn.to_owned())),
            },
            None => Err(Error::NoSuchPolicy(arn.to_owned())),
        }
    }

    /// Attaches a managed policy to a role.
    pub fn attach(
        &self,
        role: &str,
        arn: &str,
        arns: &tarn_core::arn::Arns,
    ) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        self.role(role)?;
        self.attachable(arn, arns)?;
        let mut batch = self.store.batch();
        batch.insert(&self.attached, &sub_key(role, arn), &[VERSION])?;
        Ok(batch.commit()?)
    }

    /// Detaches a managed policy from a role.
    pub fn detach(&self, role: &str, arn: &str) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        self.role(role)?;
        let key = sub_key(role, arn);
        if self.store.get(&self.attached, &key)?.is_none() {
            return Err(Error::NotAttached(arn.to_owned()));
        }
        let mut batch = self.store.batch();
        batch.remove(&self.attached, &key)?;
        Ok(batch.commit()?)
    }

    /// The ARNs of the managed policies attached to a role, in order.
    pub fn attached(&self, role: &str) -> Result<Vec<String>, Error> {
        self.of_role(&self.attached, role, "IAM attachment")
    }

    /// How many roles a policy is attached to.
    pub fn attachment_count(&self, arn: &str) -> Result<u32, Error> {
        let mut n = 0;
        for e in self
            .store
            .iter(&self.attached, &KeyRange::all(), Direction::Forward)
        {
            let e = e?;
            if e.key.split(|b| *b == 0).nth(1) == Some(arn.as_bytes()) {
                n += 1;
            }
        }
        Ok(n)
    }

    fn policy_by_name(&self, name: &str) -> Result<Option<Policy>, Error> {
        Ok(match self.store.get(&self.policies, &lower(name))? {
            Some(v) => Some(decode_policy(&v)?),
            None => None,
        })
    }

    /// The customer managed policy `arn` names.
    pub fn policy(&self, arn: &str, arns: &tarn_core::arn::Arns) -> Result<Policy, Error> {
        use tarn_core::arn::PolicyOwner;
        match arns.policy_in(arn) {
            Some((PolicyOwner::Account, path, name)) => match self.policy_by_name(name)? {
                Some(p) if p.path == path => Ok(p),
                _ => Err(Error::NoSuchPolicy(arn.to_owned())),
            },
            _ => Err(Error::NoSuchPolicy(arn.to_owned())),
        }
    }

    /// Creates a customer managed policy (version `v1`, the default).
    #[allow(clippy::too_many_arguments)]
    pub fn create_policy(
        &self,
        name: &str,
        path: &str,
        document: &str,
        description: Option<String>,
        tags: Vec<(String, String)>,
        now_ms: u64,
    ) -> Result<Deferred<Policy>, Error> {
        check_document(document)?;
        let _g = lock(&self.lock);
        if self.policy_by_name(name)?.is_some() {
            return Err(Error::PolicyExists(name.to_owned()));
        }
        let mut batch = self.store.batch();
        let n = batch.allocate(IDS)?;
        let policy = Policy {
            name: name.to_owned(),
            path: path.to_owned(),
            id: unique_id("ANPA", &self.account, n),
            created_ms: now_ms,
            updated_ms: now_ms,
            description,
            default_version: 1,
            versions: vec![PolicyVersion {
                number: 1,
                created_ms: now_ms,
                document: document.to_owned(),
            }],
            tags,
        };
        batch.insert(&self.policies, &lower(name), &policy_value(&policy))?;
        Ok(batch.commit()?.map(|()| policy))
    }

    /// Adds a version to a policy (`v<n+1>`), its default if `default`.
    pub fn create_policy_version(
        &self,
        arn: &str,
        arns: &tarn_core::arn::Arns,
        document: &str,
        default: bool,
        now_ms: u64,
    ) -> Result<Deferred<PolicyVersion>, Error> {
        check_document(document)?;
        self.update_policy(arn, arns, |p| {
            if p.versions.len() >= POLICY_VERSIONS_MAX {
                return Err(Error::TooManyVersions);
            }
            let number = p.versions.iter().map(|v| v.number).max().unwrap_or(0) + 1;
            let v = PolicyVersion {
                number,
                created_ms: now_ms,
                document: document.to_owned(),
            };
            p.versions.push(v.clone());
            if default {
                p.default_version = number;
                p.updated_ms = now_ms;
            }
            Ok(v)
        })
    }

    /// Deletes a version that is not the default.
    pub fn delete_policy_version(
        &self,
        arn: &str,
        arns: &tarn_core::arn::Arns,
        version: &str,
    ) -> Result<Deferred<()>, Error> {
        self.update_policy(arn, arns, |p| {
            let n = version_number(&p.versions, version)
                .ok_or_else(|| Error::NoSuchPolicyVersion(arn.to_owned(), version.to_owned()))?;
            if n == p.default_version {
                return Err(Error::DefaultVersion);
            }
            p.versions.retain(|v| v.number != n);
            Ok(())
        })
    }

    /// Makes a version the default.
    pub fn set_default_version(
        &self,
        arn: &str,
        arns: &tarn_core::arn::Arns,
        version: &str,
        now_ms: u64,
    ) -> Result<Deferred<()>, Error> {
        self.update_policy(arn, arns, |p| {
            p.default_version = version_number(&p.versions, version)
                .ok_or_else(|| Error::NoSuchPolicyVersion(arn.to_owned(), version.to_owned()))?;
            p.updated_ms = now_ms;
            Ok(())
        })
    }

    fn update_policy<T>(
        &self,
        arn: &str,
        arns: &tarn_core::arn::Arns,
        f: impl FnOnce(&mut Policy) -> Result<T, Error>,
    ) -> Result<Deferred<T>, Error> {
        let _g = lock(&self.lock);
        let mut p = self.policy(arn, arns)?;
        let out = f(&mut p)?;
        let mut batch = self.store.batch();
        batch.insert(&self.policies, &lower(&p.name), &policy_value(&p))?;
        Ok(batch.commit()?.map(|()| out))
    }

    /// The roles a policy is attached to, by name as created, in order.
    pub fn roles_attached_to(&self, arn: &str) -> Result<Vec<Role>, Error> {
        let mut out = Vec::new();
        for e in self
            .store
            .iter(&self.attached, &KeyRange::all(), Direction::Forward)
        {
            let e = e?;
            let mut parts = e.key.splitn(2, |b| *b == 0);
            let role = parts.next().unwrap_or_default();
            if parts.next() == Some(arn.as_bytes()) {
                if let Some(v) = self.store.get(&self.roles, role)? {
                    out.push(decode_role(&v)?);
                }
            }
        }
        Ok(out)
    }

    /// Deletes a customer managed policy that is attached to no role.
    pub fn delete_policy(
        &self,
        arn: &str,
        arns: &tarn_core::arn::Arns,
    ) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        let p = self.policy(arn, arns)?;
        if self.attachment_count(arn)? > 0 {
            return Err(Error::PolicyAttached);
        }
        let mut batch = self.store.batch();
        batch.remove(&self.policies, &lower(&p.name))?;
        Ok(batch.commit()?)
    }

    /// Customer managed policies whose path starts with `path_prefix`,
    /// after `after` (a name), at most `limit`, and whether more follow.
    pub fn policies(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Policy>, bool), Error> {
        self.page(&self.policies, after, limit, |v| {
            decode_policy(v).map(|p| p.path.starts_with(path_prefix).then_some(p))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_core::arn::Arns;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    #[test]
    fn roles_policies_and_conflicts() {
        let engine = tarn_engine::Engine::open(tarn_engine::Options {
            data_dir: None,
            durability: tarn_engine::Durability::Memory,
            ..tarn_engine::Options::default()
        })
        .expect("engine");
        let iam = Iam::open(&engine.store(), "000000000000").expect("iam");
        let arns = Arns::new("us-east-1", "000000000000");
        let new = NewRole {
            name: "Runner".into(),
            path: "/".into(),
            assume_role_policy: TRUST.into(),
            max_session_s: 3600,
            ..NewRole::default()
        };
        let role = iam
            .create_role(new.clone(), 1)
            .expect("create")
            .wait(&engine)
            .expect("d");
        assert!(
            role.id.starts_with("AROA") && role.id.len() == 21,
            "{}",
            role.id
        );
        assert!(matches!(
            iam.create_role(
                NewRole {
                    name: "runner".into(),
                    ..new
                },
                2
            ),
            Err(Error::RoleExists(_))
        ));
        assert_eq!(iam.role("RUNNER").expect("any case").name, "Runner");
        let managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
        iam.attach("Runner", managed, &arns)
            .expect("attach")
            .wait(&engine)
            .expect("d");
        iam.put_role_policy("Runner", "inline", TRUST)
            .expect("put")
            .wait(&engine)
            .expect("d");
        assert!(matches!(
            iam.delete_role("Runner"),
            Err(Error::RoleHasAttached)
        ));
        iam.detach("Runner", managed)
            .expect("detach")
            .wait(&engine)
            .expect("d");
        assert!(matches!(
            iam.delete_role("Runner"),
            Err(Error::RoleHasInline)
        ));
        iam.delete_role_policy("Runner", "inline")
            .expect("del")
            .wait(&engine)
            .expect("d");
        iam.delete_role("Runner")
            .expect("delete")
            .wait(&engine)
            .expect("d");
        assert!(matches!(iam.role("Runner"), Err(Error::NoSuchRole(_))));
        assert!(matches!(check_document("nope"), Err(Error::Malformed(_))));
        assert!(matches!(
            check_document("[]"),
            Err(Error::Malformed("Syntax errors in policy."))
        ));
    }

    #[test]
    fn stored_records_refuse_corruption() {
        let p = Policy {
            name: "p".into(),
            path: "/".into(),
            id: "ANPA".into(),
            created_ms: 1,
            updated_ms: 2,
            description: Some("d".into()),
            default_version: 1,
            versions: vec![PolicyVersion {
                number: 1,
                created_ms: 1,
                document: "{}".into(),
            }],
            tags: vec![("k".into(), "v".into())],
        };
        let v = policy_value(&p);
        assert_eq!(decode_policy(&v).expect("decodes"), p);
        for cut in 0..v.len() {
            assert!(decode_policy(&v[..cut]).is_err(), "{cut}");
        }
    }
}
