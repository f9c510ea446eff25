//! Creating and editing users; reading a user and their history; the bulk path.

use std::collections::BTreeMap;

use rollcall_domain::{
    Attributes, AuditEvent, Email, ExternalId, NewUser, Password, PersonName, Role, Source,
    TemporaryPassword, User, UserId, UserPatch, Username,
};
use tracing::instrument;

use crate::error::{Errors, lost_field};
use crate::{App, AppError, Expected, Principal, locked_at, write_change};

/// A new user as typed: raw text, validated by [`App::create_user`].
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub username: Option<String>,
    pub email: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub role: String,
    pub source: Option<String>,
    pub external_id: Option<String>,
    pub prevent_archiving: Option<bool>,
    pub password: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// An edit as typed. `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct EditUser {
    /// The version the editor read; the edit is refused if the user has moved on.
    pub version: Option<i64>,
    pub username: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub role: Option<String>,
    pub external_id: Option<Option<String>>,
    pub prevent_archiving: Option<bool>,
    pub attributes: Option<BTreeMap<String, String>>,
}

fn optional<T>(
    errors: &mut Errors,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, rollcall_domain::FieldError>,
) -> Option<T> {
    raw.filter(|s| !s.trim().is_empty())
        .and_then(|s| errors.take(parse(s)))
}

impl App {
    #[instrument(skip_all, fields(org.id = %who.org_id))]
    pub async fn create_user(&self, who: &Principal, input: CreateUser) -> Result<User, AppError> {
        self.create(who, input, false).await
    }

    /// Adds a user with a temporary password to replace at their first sign-in: the one typed,
    /// or one made here and returned (once). Nothing is added when the password is refused.
    pub async fn create_user_with_temporary_password(
        &self,
        who: &Principal,
        mut input: CreateUser,
        typed: Option<&str>,
    ) -> Result<(User, Option<String>), AppError> {
        let (password, made) = temporary_password(typed);
        input.password = Some(password);
        let user = self.create(who, input, true).await?;
        Ok((user, made))
    }

    /// Creates a user; with `temporary`, their password is one to change at next sign-in.
    async fn create(
        &self,
        who: &Principal,
        input: CreateUser,
        temporary: bool,
    ) -> Result<User, AppError> {
        who.require_admin()?;
        let mut errors = Errors::default();
        let username = optional(&mut errors, input.username.as_deref(), Username::parse);
        let email = optional(&mut errors, input.email.as_deref(), Email::parse);
        let given_name = errors.take(PersonName::parse(&input.given_name, "given_name"));
        let family_name = errors.take(PersonName::parse(&input.family_name, "family_name"));
        let role = errors.take(input.role.parse::<Role>());
        let source = match input.source.as_deref() {
            Some(raw) => errors.take(Source::parse(raw)),
            None => Some(Source::manual()),
        };
        let external_id = optional(&mut errors, input.external_id.as_deref(), ExternalId::parse);
        let attributes = errors.take(Attributes::parse(input.attributes));
        let logins: Vec<&str> = [input.username.as_deref(), input.email.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let field = if temporary {
            "temporary_password"
        } else {
            "password"
        };
        let password = optional(&mut errors, input.password.as_deref(), |p| {
            Password::parse(p, field, &logins)
        });
        errors.finish()?;
        let (Some(given_name), Some(family_name), Some(role), Some(source), Some(attributes)) =
            (given_name, family_name, role, source, attributes)
        else {
            return Err(lost_field());
        };
        let password = match password {
            Some(password) => Some(crate::passwords::hash(password).await?),
            None => None,
        };
        let new = NewUser {
            username,
            email,
            given_name,
            family_name,
            role,
            source,
            external_id,
            prevent_archiving: input.prevent_archiving,
            must_change_password: temporary && password.is_some(),
            password,
            attributes,
        };
        let (user, event) = User::create(who.org_id, new, &who.actor, self.now())?;
        let written = async {
            let mut uow = self.store.begin().await?;
            uow.insert_users(who.org_id, std::slice::from_ref(&user))
                .await?;
            crate::learning::enrol_joiners(uow.as_mut(), who.org_id, &[user.id()], event.at)
                .await?;
            uow.record(&[event]).await?;
            uow.commit().await
        };
        if let Err(err) = written.await {
            return Err(self.username_refusal(&user, err.into()).await);
        }
        tracing::info!(user.id = %user.id(), "user created");
        Ok(user)
    }

    #[instrument(skip_all, fields(org.id = %who.org_id, user.id = %id))]
    pub async fn user(&self, who: &Principal, id: UserId) -> Result<User, AppError> {
        who.require_admin()?;
        self.store
            .user(who.org_id, id)
            .await?
            .ok_or(AppError::NotFound("user"))
    }

    /// Finds a user by id, username or e-mail (for the command line).
    pub async fn find_user(&self, who: &Principal, key: &str) -> Result<User, AppError> {
        who.require_admin()?;
        // No username, e-mail or id holds a control character.
        if key.chars().any(char::is_control) {
            return Err(AppError::NotFound("user"));
        }
        if let Ok(id) = key.parse::<UserId>()
            && let Some(user) = self.store.user(who.org_id, id).await?
        {
            return Ok(user);
        }
        self.store
            .user_by_login(who.org_id, key)
            .await?
            .ok_or(AppError::NotFound("user"))
    }

    #[instrument(skip_all, fields(org.id = %who.org_id, user.id = %id))]
    pub async fn edit_user(
        &self,
        who: &Principal,
        id: UserId,
        input: EditUser,
    ) -> Result<User, AppError> {
        who.require_admin()?;
        let Some(expected) = input.version else {
            return Err(AppError::invalid(
                "version",
                "send the version you read (in the body or an If-Match header)",
            ));
        };
        let mut errors = Errors::default();
        let patch = UserPatch {
            username: input
                .username
                .map(|value| optional(&mut errors, value.as_deref(), Username::parse)),
            email: input
                .email
                .map(|value| optional(&mut errors, value.as_deref(), Email::parse)),
            given_name: input
                .given_name
                .and_then(|n| errors.take(PersonName::parse(&n, "given_name"))),
            family_name: input
                .family_name
                .and_then(|n| errors.take(PersonName::parse(&n, "family_name"))),
            role: input.role.and_then(|r| errors.take(r.parse())),
            external_id: input
                .external_id
                .map(|value| optional(&mut errors, value.as_deref(), ExternalId::parse)),
            prevent_archiving: input.prevent_archiving,
            attributes: input
                .attributes
                .and_then(|a| errors.take(Attributes::parse(a))),
        };
        errors.finish()?;
        let mut uow = self.store.begin().await?;
        let user = locked_at(uow.as_mut(), who.org_id, id, Expected::Sent(expected)).await?;
        let Some(change) = user.apply(patch, &who.actor, self.now())? else {
            return Ok(user);
        };
        let written = async {
            write_change(uow.as_mut(), &change, expected, None).await?;
            Ok::<_, AppError>(uow.commit().await?)
        };
        if let Err(err) = written.await {
            return Err(self.username_refusal(&change.user, err).await);
        }
        Ok(change.user)
    }

    /// A refused username, as its author should hear it: taken (the same name, ignoring case),
    /// or only looking like another's (the stores refuse both through one `username` field).
    async fn username_refusal(&self, user: &User, err: AppError) -> AppError {
        let (AppError::Taken { field: "username" }, Some(name)) = (&err, user.username()) else {
            return err;
        };
        match self.store.user_by_login(user.org_id(), name.as_str()).await {
            Ok(Some(other))
                if other.id() != user.id()
                    && other.username().map(Username::key) == Some(name.key()) =>
            {
                err
            }
            Ok(_) => AppError::LooksLike { field: "username" },
            Err(lookup) => lookup.into(),
        }
    }

    /// Sets a user's password as an admin; with `must_change` they choose their own at next
    /// sign-in. Their sessions end.
    pub async fn set_password(
        &self,
        who: &Principal,
        id: UserId,
        password: &str,
        must_change: bool,
    ) -> Result<User, AppError> {
        let user = self.user(who, id).await?;
        let password = Password::parse(password, "password", &user.logins())?;
        let hash = crate::passwords::hash(password).await?;
        let mut uow = self.store.begin().await?;
        let current =
            locked_at(uow.as_mut(), who.org_id, id, Expected::Read(user.version())).await?;
        let change = current.set_password(hash, must_change, &who.actor, self.now());
        write_change(uow.as_mut(), &change, user.version(), None).await?;
        uow.commit().await?;
        Ok(change.user)
    }

    /// Gives a user a temporary password to choose their own from at their next sign-in: the
    /// one typed, or one made here and returned (once). Their sessions end.
    pub async fn reset_password(
        &self,
        who: &Principal,
        id: UserId,
        typed: Option<&str>,
    ) -> Result<(User, Option<String>), AppError> {
        let (password, made) = temporary_password(typed);
        Ok((self.set_password(who, id, &password, true).await?, made))
    }

    /// A user's history, oldest first.
    pub async fn user_events(
        &self,
        who: &Principal,
        id: UserId,
    ) -> Result<Vec<AuditEvent>, AppError> {
        let user = self.user(who, id).await?;
        Ok(self.store.user_events(who.org_id, user.id()).await?)
    }

    /// The bulk path: creates many already-validated users of one org in one transaction.
    pub async fn import_users(
        &self,
        who: &Principal,
        users: Vec<NewUser>,
    ) -> Result<usize, AppError> {
        who.require_admin()?;
        let at = self.now();
        let (users, events): (Vec<User>, Vec<AuditEvent>) = users
            .into_iter()
            .map(|new| User::create(who.org_id, new, &who.actor, at))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        let mut uow = self.store.begin().await?;
        uow.insert_users(who.org_id, &users).await?;
        uow.record(&events).await?;
        let ids: Vec<UserId> = users.iter().map(User::id).collect();
        crate::learning::enrol_joiners(uow.as_mut(), who.org_id, &ids, at).await?;
        uow.commit().await?;
        Ok(users.len())
    }
}

/// The temporary password to set: the one typed, else one made here, which is also returned to
/// be shown (once).
fn temporary_password(typed: Option<&str>) -> (String, Option<String>) {
    if let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) {
        return (typed.to_owned(), None);
    }
    let made = TemporaryPassword::generate().expose().to_owned();
    (made.clone(), Some(made))
}
