//! Users: validated fields, creation, edits and status changes.

use std::collections::BTreeMap;

use crate::Timestamp;
use crate::audit::{Actor, AuditAction, AuditEvent, Reason};
use crate::error::FieldError;
use crate::ids::{EventId, OrgId, UserId};
use crate::password::PasswordHash;
use crate::rules;
use crate::search;
use crate::status::{Role, Status};
use crate::text;

/// A sign-in name: 1 to 64 letters, digits, `.`, `_` or `-`, in NFC. Unique per org, ignoring
/// case, and no two in an org may look alike ([`Username::skeleton`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// As stored: accepted as it is, even if written before today's rules (a row must always
    /// read back; the rules apply to what is typed).
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = &text::clean(raw, "username", false)?;
        if name.is_empty() {
            return Err(FieldError::new("username", "must not be empty"));
        }
        if name.chars().count() > 64 {
            return Err(FieldError::new("username", "must be at most 64 characters"));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(FieldError::new(
                "username",
                format!("may contain only letters, digits, '.', '_' and '-' (found {bad:?})"),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is checked on.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// What the name looks like, ignoring case, width and characters of other scripts that
    /// look the same (UTS #39): unique per org too, so `аdmin` cannot pose as `admin`.
    pub fn skeleton(&self) -> String {
        text::skeleton(&self.0)
    }
}

/// An e-mail address: one `@`, a local part, a dotted domain, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// As stored: accepted as it is, even if written before today's rules (a row must always
    /// read back; the rules apply to what is typed).
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = &text::clean(raw, "email", false)?;
        let invalid = |why: &str| Err(FieldError::new("email", format!("'{email}' {why}")));
        if email.is_empty() {
            return Err(FieldError::new("email", "must not be empty"));
        }
        if email.len() > 254 {
            return Err(FieldError::new("email", "must be at most 254 characters"));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return invalid("is not an e-mail address: it has no '@'");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return invalid("is not an e-mail address: the part before '@' is invalid");
        }
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if !domain_ok {
            return invalid("is not an e-mail address: the domain is invalid");
        }
        if email
            .chars()
            .any(|c| c.is_whitespace() || text::is_invisible(c))
        {
            return invalid("is not an e-mail address: it contains spaces");
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is checked on.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A given or family name: 1 to 100 characters in NFC, with a letter that shows, and no
/// control, invisible or text-direction characters ([`text::clean_name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let name = text::clean_name(raw, field)?;
        if name.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new(field, "must be at most 100 characters"));
        }
        Ok(Self(name))
    }

    /// A name as stored: accepted as it is, even if written before today's rules.
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a user's record is managed: `manual`, or a provisioning source's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source(String);

impl Source {
    pub const MANUAL: &'static str = "manual";

    pub fn manual() -> Self {
        Self(Self::MANUAL.to_owned())
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let source = raw.trim().to_ascii_lowercase();
        let valid = !source.is_empty()
            && source.len() <= 64
            && source
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if !valid {
            return Err(FieldError::new(
                "source",
                "must be 1 to 64 characters of a-z, 0-9, '-', '_', '.' and ':'",
            ));
        }
        Ok(Self(source))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_manual(&self) -> bool {
        self.0 == Self::MANUAL
    }

    /// Whether a user this source adds starts with prevent archiving set: someone added by
    /// hand does (no source may archive them until an admin says so); a source's own do not.
    pub fn prevents_archiving_by_default(&self) -> bool {
        self.is_manual()
    }
}

/// A user's id in their source's own records. Unique per (org, source).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// As stored: accepted as it is, even if written before today's rules (a row must always
    /// read back; the rules apply to what is typed).
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let id = &text::clean(raw, "external_id", false)?;
        if id.is_empty() || id.chars().count() > 255 {
            return Err(FieldError::new(
                "external_id",
                "must be 1 to 255 characters without control characters",
            ));
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free attributes (`department`, `location`, `grade`, …) that segments and reports key on.
///
/// Kept compact, as an import of a million people holds one set per row: every name and value
/// in one string, in name order, and where each ends. A map of four attributes costs about a
/// tenth of what a `BTreeMap` of `String`s does.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Name, value, name, value, …, one after the other, names in order and each once.
    text: Box<str>,
    /// Where each name and each value ends in `text`.
    ends: Box<[u32]>,
}

impl Attributes {
    pub const MAX_COUNT: usize = 50;

    pub fn parse(raw: BTreeMap<String, String>) -> Result<Self, FieldError> {
        if raw.len() > Self::MAX_COUNT {
            return Err(FieldError::new(
                "attributes",
                format!("at most {} attributes", Self::MAX_COUNT),
            ));
        }
        let mut clean = BTreeMap::new();
        for (key, value) in raw {
            let key_ok = !key.is_empty()
                && key.len() <= 40
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                return Err(FieldError::new(
                    format!("attributes.{key}"),
                    "names must be 1 to 40 characters of a-z, 0-9 and '_'",
                ));
            }
            let value = text::clean(&value, &format!("attributes.{key}"), false)?;
            if value.chars().count() > 200 {
                return Err(FieldError::new(
                    format!("attributes.{key}"),
                    "values must be at most 200 characters without control characters",
                ));
            }
            // An empty value removes the attribute.
            if !value.is_empty() {
                clean.insert(key, value);
            }
        }
        Ok(Self::from_sorted(
            clean.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }

    /// As stored: accepted as it is, even if written before today's rules.
    pub fn from_stored(map: &BTreeMap<String, String>) -> Self {
        Self::from_sorted(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// From pairs in name order, each name once (as a map's).
    fn from_sorted<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        let len: usize = pairs.clone().map(|(k, v)| k.len() + v.len()).sum();
        let mut text = String::with_capacity(len);
        let mut ends = Vec::with_capacity(2 * pairs.clone().count());
        for (key, value) in pairs {
            for part in [key, value] {
                text.push_str(part);
                // Parsed attributes hold at most 50 × 1 KiB. Stored ones come from a database
                // text value, which neither backend lets pass 1 GiB.
                debug_assert!(u32::try_from(text.len()).is_ok());
                ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            }
        }
        Self {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// The names and values, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        (0..self.len()).map(|i| self.pair(i))
    }

    /// The value of `key`, found by halving (the names are in order).
    pub fn get(&self, key: &str) -> Option<&str> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let (name, value) = self.pair(mid);
            match name.cmp(key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(value),
            }
        }
        None
    }

    /// The `i`th name and its value.
    fn pair(&self, i: usize) -> (&str, &str) {
        let start = match i {
            0 => 0,
            _ => self.ends.get(2 * i - 1).map_or(0, |&end| end as usize),
        };
        let key_end = self.ends.get(2 * i).map_or(start, |&end| end as usize);
        let value_end = self
            .ends
            .get(2 * i + 1)
            .map_or(key_end, |&end| end as usize);
        (
            self.text.get(start..key_end).unwrap_or_default(),
            self.text.get(key_end..value_end).unwrap_or_default(),
        )
    }

    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

/// As a JSON object of names and values, in name order.
impl serde::Serialize for Attributes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl std::fmt::Debug for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A person in an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    id: UserId,
    org_id: OrgId,
    username: Option<Username>,
    email: Option<Email>,
    given_name: PersonName,
    family_name: PersonName,
    role: Role,
    status: Status,
    source: Source,
    external_id: Option<ExternalId>,
    /// When set, no source may auto-archive this user.
    prevent_archiving: bool,
    password: Option<PasswordHash>,
    must_change_password: bool,
    attributes: Attributes,
    created_at: Timestamp,
    updated_at: Timestamp,
    status_changed_at: Timestamp,
    /// Starts at 1; every change adds one. Writes name the version they read.
    version: i64,
}

/// A user exactly as a store wrote it: how a store hands a row back to the domain
/// ([`User::from_stored`]). Nothing else builds one: statuses change through transitions.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub role: Role,
    pub status: Status,
    pub source: Source,
    pub external_id: Option<ExternalId>,
    pub prevent_archiving: bool,
    pub password: Option<PasswordHash>,
    pub must_change_password: bool,
    pub attributes: Attributes,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub status_changed_at: Timestamp,
    pub version: i64,
}

/// A change to one user, as it must be written: the user as they now are, the event recording
/// the change, and whether the user's sessions end with it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct UserChange {
    pub user: User,
    pub event: AuditEvent,
    /// Their sessions end in the same unit of work (they lost sign-in, or their password was
    /// replaced: the caller may keep the session that made the change).
    pub ends_sessions: bool,
    /// Their API tokens are revoked for good in the same unit of work (they lost sign-in; a
    /// later reactivation does not bring the tokens back).
    pub revokes_tokens: bool,
}

/// Everything needed to create a user; the fields are already validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub role: Role,
    pub source: Source,
    pub external_id: Option<ExternalId>,
    /// Defaults to on for users created by hand and off for provisioned ones.
    pub prevent_archiving: Option<bool>,
    pub password: Option<PasswordHash>,
    pub must_change_password: bool,
    pub attributes: Attributes,
}

/// An edit: `None` leaves a field as it is; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<Option<Username>>,
    pub email: Option<Option<Email>>,
    pub given_name: Option<PersonName>,
    pub family_name: Option<PersonName>,
    pub role: Option<Role>,
    pub external_id: Option<Option<ExternalId>>,
    pub prevent_archiving: Option<bool>,
    pub attributes: Option<Attributes>,
}

/// A requested change of status.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub to: Status,
    pub reason: Option<Reason>,
    /// Required when a user without e-mail gets sign-in back; they must change it on sign-in.
    pub temporary_password: Option<PasswordHash>,
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the user is already {0}")]
    Unchanged(Status),
    #[error("a user cannot go from {from} to {to}; restore an archived user to active first")]
    NotAllowed { from: Status, to: Status },
    #[error(
        "this user signs in with a username and has no e-mail: reactivating them needs a temporary password"
    )]
    TemporaryPasswordRequired,
    /// An admin deactivating or archiving themselves would lock themselves out at once.
    #[error("you cannot take away your own sign-in: another admin can deactivate or archive you")]
    OwnSignIn,
}

fn require_login(username: Option<&Username>, email: Option<&Email>) -> Result<(), FieldError> {
    if username.is_none() && email.is_none() {
        return Err(FieldError::new(
            "username",
            "a user needs a username or an e-mail address (or both)",
        ));
    }
    Ok(())
}

impl User {
    /// Rebuilds a user from its stored form (stores only).
    pub fn from_stored(stored: StoredUser) -> Self {
        Self {
            id: stored.id,
            org_id: stored.org_id,
            username: stored.username,
            email: stored.email,
            given_name: stored.given_name,
            family_name: stored.family_name,
            role: stored.role,
            status: stored.status,
            source: stored.source,
            external_id: stored.external_id,
            prevent_archiving: stored.prevent_archiving,
            password: stored.password,
            must_change_password: stored.must_change_password,
            attributes: stored.attributes,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            status_changed_at: stored.status_changed_at,
            version: stored.version,
        }
    }

    pub fn id(&self) -> UserId {
        self.id
    }

    pub fn org_id(&self) -> OrgId {
        self.org_id
    }

    pub fn username(&self) -> Option<&Username> {
        self.username.as_ref()
    }

    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    pub fn given_name(&self) -> &PersonName {
        &self.given_name
    }

    pub fn family_name(&self) -> &PersonName {
        &self.family_name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the user stands. What it means is asked of [`rules`], or of the methods below.
    pub fn status(&self) -> Status {
        self.status
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn external_id(&self) -> Option<&ExternalId> {
        self.external_id.as_ref()
    }

    /// When set, no source may auto-archive this user.
    pub fn prevent_archiving(&self) -> bool {
        self.prevent_archiving
    }

    pub fn password(&self) -> Option<&PasswordHash> {
        self.password.as_ref()
    }

    /// They must choose a new password before anything else (after a temporary one).
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }

    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    pub fn status_changed_at(&self) -> Timestamp {
        self.status_changed_at
    }

    /// Starts at 1; every change adds one. Writes name the version they read.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Does moving this user to `to` give them sign-in back without any way to use it? A user
    /// without e-mail whose password was dropped on leaving needs a temporary one from the
    /// admin in the same step.
    pub fn needs_temporary_password_to(&self, to: Status) -> bool {
        rules::restores_sign_in(self.status, to) && self.email.is_none() && self.password.is_none()
    }

    /// The moves an admin may offer for this user, with their wording (see
    /// [`rules::admin_transitions`]).
    pub fn admin_transitions(&self) -> &'static [rules::AdminTransition] {
        rules::admin_transitions(self.status)
    }

    /// Creates a user, active, with the event recording it.
    pub fn create(
        org_id: OrgId,
        new: NewUser,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(Self, AuditEvent), FieldError> {
        require_login(new.username.as_ref(), new.email.as_ref())?;
        let prevent_archiving = new
            .prevent_archiving
            .unwrap_or(new.source.prevents_archiving_by_default());
        let user = Self {
            id: UserId::new(),
            org_id,
            username: new.username,
            email: new.email,
            given_name: new.given_name,
            family_name: new.family_name,
            role: new.role,
            status: Status::Active,
            source: new.source,
            external_id: new.external_id,
            prevent_archiving,
            password: new.password,
            must_change_password: new.must_change_password,
            attributes: new.attributes,
            created_at: at,
            updated_at: at,
            status_changed_at: at,
            version: 1,
        };
        let event = user.event(
            actor,
            at,
            AuditAction::Created,
            (None, Some(user.status)),
            None,
            Vec::new(),
        );
        Ok((user, event))
    }

    /// Applies an edit. Returns `None` when it changes nothing (nothing to write).
    pub fn apply(
        &self,
        patch: UserPatch,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Option<UserChange>, FieldError> {
        let mut next = self.clone();
        let mut changed = Vec::new();
        macro_rules! set {
            ($field:ident) => {
                if let Some(value) = patch.$field {
                    if next.$field != value {
                        next.$field = value;
                        changed.push(stringify!($field).to_owned());
                    }
                }
            };
        }
        set!(username);
        set!(email);
        set!(given_name);
        set!(family_name);
        set!(role);
        set!(external_id);
        set!(prevent_archiving);
        set!(attributes);
        if changed.is_empty() {
            return Ok(None);
        }
        require_login(next.username.as_ref(), next.email.as_ref())?;
        next.updated_at = at;
        next.version += 1;
        let event = next.event(actor, at, AuditAction::Updated, (None, None), None, changed);
        Ok(Some(UserChange {
            user: next,
            event,
            ends_sessions: false,
            revokes_tokens: false,
        }))
    }

    /// Moves the user to another status, as the rules allow.
    ///
    /// Losing sign-in ends every session (in the same unit of work) and, for a user without
    /// e-mail, drops the password: nobody can reset it by mail, so the admin who brings them
    /// back sets a temporary one that must be changed at next sign-in.
    pub fn change_status(
        &self,
        change: StatusChange,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<UserChange, TransitionError> {
        let (from, to) = (self.status, change.to);
        if rules::is_unchanged(from, to) {
            return Err(TransitionError::Unchanged(from));
        }
        if !rules::transition_allowed(from, to) {
            return Err(TransitionError::NotAllowed { from, to });
        }
        if rules::revokes_sign_in(from, to) && actor.user_id() == Some(self.id) {
            return Err(TransitionError::OwnSignIn);
        }
        let mut next = self.clone();
        let no_email = self.email.is_none();
        if rules::revokes_sign_in(from, to) && no_email {
            next.password = None;
            next.must_change_password = false;
        }
        if rules::restores_sign_in(from, to) {
            match change.temporary_password {
                Some(temporary) => {
                    next.password = Some(temporary);
                    next.must_change_password = true;
                }
                // A source that enables someone again carries no password: they sign in
                // through the source's identity provider, or an admin sets one.
                None if self.needs_temporary_password_to(to) && !actor.is_provisioning() => {
                    return Err(TransitionError::TemporaryPasswordRequired);
                }
                None => {}
            }
        }
        next.status = to;
        next.status_changed_at = at;
        next.updated_at = at;
        next.version += 1;
        let event = next.event(
            actor,
            at,
            AuditAction::StatusChanged,
            (Some(from), Some(to)),
            change.reason,
            Vec::new(),
        );
        Ok(UserChange {
            user: next,
            event,
            ends_sessions: rules::revokes_sign_in(from, to),
            revokes_tokens: rules::revokes_sign_in(from, to),
        })
    }

    /// The user becomes managed by `source` under `external_id` (a user an admin added by hand,
    /// matched by a source's row). Their prevent-archiving flag stays as it was: an admin
    /// unchecks it to hand them over to the source's auto-archiving.
    pub fn link(
        &self,
        source: Source,
        external_id: Option<ExternalId>,
        actor: &Actor,
        at: Timestamp,
    ) -> UserChange {
        let mut next = self.clone();
        let mut changed = Vec::new();
        if next.source != source {
            next.source = source;
            changed.push("source".to_owned());
        }
        if next.external_id != external_id {
            next.external_id = external_id;
            changed.push("external_id".to_owned());
        }
        next.updated_at = at;
        next.version += 1;
        let event = next.event(actor, at, AuditAction::Updated, (None, None), None, changed);
        UserChange {
            user: next,
            event,
            ends_sessions: false,
            revokes_tokens: false,
        }
    }

    /// The history entry for joining or leaving a roster (a SCIM group's members changed).
    pub fn membership_event(
        &self,
        actor: &Actor,
        at: Timestamp,
        joined: bool,
        roster: &str,
    ) -> AuditEvent {
        let title: String = roster.chars().take(200).collect();
        let what = if joined {
            format!("joined the roster '{title}'")
        } else {
            format!("left the roster '{title}'")
        };
        self.event(
            actor,
            at,
            AuditAction::Updated,
            (None, None),
            Some(Reason::from_trusted(what)),
            vec!["rosters".to_owned()],
        )
    }

    /// The history entry for API tokens revoked with a change that ended sign-in.
    pub fn tokens_revoked_event(&self, actor: &Actor, at: Timestamp, count: u64) -> AuditEvent {
        let what = if count == 1 {
            "1 API token revoked".to_owned()
        } else {
            format!("{count} API tokens revoked")
        };
        self.event(
            actor,
            at,
            AuditAction::TokensRevoked,
            (None, None),
            Some(Reason::from_trusted(what)),
            vec!["api_tokens".to_owned()],
        )
    }

    fn event(
        &self,
        actor: &Actor,
        at: Timestamp,
        action: AuditAction,
        (from_status, to_status): (Option<Status>, Option<Status>),
        reason: Option<Reason>,
        changed_fields: Vec<String>,
    ) -> AuditEvent {
        AuditEvent {
            id: EventId::new(),
            org_id: self.org_id,
            user_id: self.id,
            at,
            actor: actor.clone(),
            action,
            from_status,
            to_status,
            reason,
            changed_fields,
        }
    }

    /// Sets a new password (an admin's reset, or the user's own change). Every session made
    /// with the old one ends (the caller may keep the one that made the change).
    pub fn set_password(
        &self,
        password: PasswordHash,
        must_change: bool,
        actor: &Actor,
        at: Timestamp,
    ) -> UserChange {
        let mut next = self.clone();
        next.password = Some(password);
        next.must_change_password = must_change;
        next.updated_at = at;
        next.version += 1;
        let event = next.event(
            actor,
            at,
            AuditAction::Updated,
            (None, None),
            None,
            vec!["password".to_owned()],
        );
        UserChange {
            user: next,
            event,
            ends_sessions: true,
            revokes_tokens: false,
        }
    }

    /// May this user sign in, keep sessions and use API tokens right now?
    pub fn may_sign_in(&self) -> bool {
        rules::may_sign_in(self.status)
    }

    /// The username and e-mail this user has, in that order.
    pub fn logins(&self) -> Vec<&str> {
        let mut logins = Vec::with_capacity(2);
        logins.extend(self.username.as_ref().map(Username::as_str));
        logins.extend(self.email.as_ref().map(Email::as_str));
        logins
    }

    /// The terms search finds this user by (see [`search`]).
    pub fn search_terms(&self) -> Vec<String> {
        search::terms(
            self.given_name.as_str(),
            self.family_name.as_str(),
            &self.logins(),
        )
    }

    /// "Ada Lovelace".
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name.as_str(), self.family_name.as_str())
    }

    /// The username, or else the e-mail: what this person signs in with.
    pub fn login(&self) -> &str {
        self.username
            .as_ref()
            .map(Username::as_str)
            .or(self.email.as_ref().map(Email::as_str))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
