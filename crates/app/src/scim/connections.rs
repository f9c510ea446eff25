//! Connections and their tokens, as admins manage them; and how a request's token is checked.

use rollcall_domain::provisioning::{Format, MissingPolicy, Mode, SourceSettings};
use rollcall_domain::{RunId, SecretKind, Source, SourceId, TokenId, TokenSecret};
use rollcall_scim::ScimError;
use rollcall_store::scim::{ScimSettings, ScimToken};

use super::{DEFAULT_REQUESTS_PER_MINUTE, ROLE_ATTRIBUTES, ScimCaller};
use crate::{App, AppError, Principal};

/// A new connection as an admin asks for it.
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    pub name: String,
    /// Where roles are read from (`userType` when not given).
    pub role_attribute: Option<String>,
    pub requests_per_minute: Option<u32>,
    /// The first token's name (`default` when not given).
    pub token_name: Option<String>,
}

/// A connection: its source, its settings and its tokens.
#[derive(Debug, Clone)]
pub struct Connection {
    pub source: SourceSettings,
    pub settings: ScimSettings,
    pub tokens: Vec<ScimToken>,
}

/// A token's name, sent as `field`.
fn token_name(raw: Option<&str>, field: &str) -> Result<String, AppError> {
    let name = raw.map_or("default", str::trim);
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "must be 1 to 60 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

fn role_attribute(raw: Option<&str>) -> Result<String, AppError> {
    let raw = raw.map_or("userType", str::trim);
    ROLE_ATTRIBUTES
        .iter()
        .find(|a| a.eq_ignore_ascii_case(raw))
        .map(|a| (*a).to_owned())
        .ok_or_else(|| {
            AppError::invalid(
                "role_attribute",
                format!("must be one of {}", ROLE_ATTRIBUTES.join(", ")),
            )
        })
}

impl App {
    /// Adds a SCIM connection to the org, with its first token: the secret is returned once.
    pub async fn add_scim_connection(
        &self,
        who: &Principal,
        new: NewConnection,
    ) -> Result<(Connection, String), AppError> {
        who.require_admin()?;
        // The body's field is `name`.
        let name =
            Source::parse(&new.name).map_err(|err| AppError::invalid("name", err.message))?;
        if name.is_manual() {
            return Err(AppError::invalid(
                "name",
                "'manual' is how users added by hand are marked; choose another name",
            ));
        }
        let role_attribute = role_attribute(new.role_attribute.as_deref())?;
        let requests_per_minute = new
            .requests_per_minute
            .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE);
        if requests_per_minute == 0 || requests_per_minute > 1_000_000 {
            return Err(AppError::invalid(
                "requests_per_minute",
                "must be from 1 to 1000000",
            ));
        }
        let token_name = token_name(new.token_name.as_deref(), "token_name")?;
        let at = self.now();
        let source = SourceSettings {
            id: SourceId::new(),
            org_id: who.org_id,
            name,
            format: Format::Scim,
            mode: Mode::Delta,
            // A SCIM connection removes people only by DELETE (archive) or active=false.
            policy: MissingPolicy::default(),
            paused: false,
            drop_folder: None,
            created_at: at,
            version: 0,
        };
        let settings = ScimSettings {
            org_id: who.org_id,
            source_id: source.id,
            role_attribute,
            requests_per_minute,
        };
        let secret = TokenSecret::generate_kind(SecretKind::Scim, who.org_id);
        let token = ScimToken {
            id: TokenId::new(),
            org_id: who.org_id,
            source_id: source.id,
            name: token_name,
            digest: secret.digest(),
            created_at: at,
            last_used_at: None,
            revoked_at: None,
        };
        let mut uow = self.store.begin().await?;
        crate::provisioning::insert_source(uow.as_mut(), &source).await?;
        uow.put_scim_settings(&settings).await?;
        uow.insert_scim_token(&token).await?;
        uow.commit().await?;
        tracing::info!(source.id = %source.id, "SCIM connection added");
        Ok((
            Connection {
                source,
                settings,
                tokens: vec![token],
            },
            secret.reveal(),
        ))
    }

    /// The org's SCIM connections.
    pub async fn scim_connections(&self, who: &Principal) -> Result<Vec<Connection>, AppError> {
        who.require_admin()?;
        let mut out = Vec::new();
        for source in self.store.provisioning_sources(who.org_id).await? {
            if source.format != Format::Scim {
                continue;
            }
            out.push(self.connection_of(source).await?);
        }
        Ok(out)
    }

    /// One connection, by its name.
    pub async fn scim_connection(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<Connection, AppError> {
        // A source of another format is not a connection: none by that name.
        let source = self.source(who, name).await.map_err(|err| match err {
            AppError::NotFound(_) => AppError::NotFound("SCIM connection"),
            other => other,
        })?;
        if source.format != Format::Scim {
            return Err(AppError::NotFound("SCIM connection"));
        }
        self.connection_of(source).await
    }

    async fn connection_of(&self, source: SourceSettings) -> Result<Connection, AppError> {
        let settings = self
            .store
            .scim_settings(source.org_id, source.id)
            .await?
            .ok_or(AppError::NotFound("SCIM connection"))?;
        let tokens = self.store.scim_tokens(source.org_id, source.id).await?;
        Ok(Connection {
            source,
            settings,
            tokens,
        })
    }

    /// Makes another token for a connection (to rotate one): the secret is returned once.
    pub async fn create_scim_token(
        &self,
        who: &Principal,
        connection: &str,
        name: Option<&str>,
    ) -> Result<(ScimToken, String), AppError> {
        let connection = self.scim_connection(who, connection).await?;
        let secret = TokenSecret::generate_kind(SecretKind::Scim, who.org_id);
        let token = ScimToken {
            id: TokenId::new(),
            org_id: who.org_id,
            source_id: connection.source.id,
            name: token_name(name, "name")?,
            digest: secret.digest(),
            created_at: self.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let mut uow = self.store.begin().await?;
        uow.insert_scim_token(&token).await?;
        uow.commit().await?;
        Ok((token, secret.reveal()))
    }

    /// Revokes a connection's token: its next request is refused.
    pub async fn revoke_scim_token(
        &self,
        who: &Principal,
        connection: &str,
        token: TokenId,
    ) -> Result<(), AppError> {
        let connection = self.scim_connection(who, connection).await?;
        let mut uow = self.store.begin().await?;
        let revoked = uow
            .revoke_scim_token(who.org_id, connection.source.id, token, self.now())
            .await?;
        if !revoked {
            return Err(AppError::NotFound("token"));
        }
        uow.commit().await?;
        Ok(())
    }

    /// Checks a request's bearer token and the connection's allowance: the caller, or a SCIM
    /// error (401 for a token that is not a live one of a connection, 403 for a paused
    /// connection, 429 when it has made too many requests).
    pub async fn authenticate_scim(&self, presented: &str) -> Result<ScimCaller, AppError> {
        let unauthorized = || AppError::Scim(ScimError::unauthorized());
        let secret =
            TokenSecret::parse_kind(SecretKind::Scim, presented).ok_or_else(unauthorized)?;
        let org_id = secret.org_id;
        let (token, settings, source) = self
            .store
            .scim_caller(org_id, &secret.digest())
            .await?
            .filter(|(token, _, source)| {
                token.revoked_at.is_none() && source.format == Format::Scim
            })
            .ok_or_else(unauthorized)?;
        if source.paused {
            return Err(AppError::Scim(ScimError::new(
                403,
                None,
                format!(
                    "the connection '{}' is paused in Rollcall: an admin of the org resumes it",
                    source.name.as_str()
                ),
            )));
        }
        if let Err(wait) = self
            .scim_limits
            .take(source.id, settings.requests_per_minute)
        {
            return Err(AppError::Throttled {
                retry_after_secs: wait,
            });
        }
        // The last use is written at most once a minute per token.
        let now = self.now();
        if token
            .last_used_at
            .is_none_or(|at| now - at > chrono::Duration::minutes(1))
        {
            let mut uow = self.store.begin().await?;
            uow.touch_scim_token(org_id, token.id, now).await?;
            uow.commit().await?;
        }
        Ok(ScimCaller {
            org_id,
            source,
            settings,
            request: RunId::new(),
            token,
        })
    }
}
