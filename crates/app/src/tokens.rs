//! API tokens: issued to a user of an org, stored hashed, revocable, and only as good as their
//! user's right to sign in.

use rollcall_domain::{ApiToken, TokenId, TokenSecret, User};

use crate::{App, AppError, Principal};

impl App {
    /// Issues a token acting as the user `login` (username, e-mail or id). Returns the stored
    /// token and the secret to show once.
    pub async fn create_token(
        &self,
        who: &Principal,
        login: &str,
        name: &str,
    ) -> Result<(ApiToken, String), AppError> {
        let user = self.find_user(who, login).await?;
        let name = rollcall_domain::text::clean(name, "name", false)?;
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("name", "must be 1 to 100 characters"));
        }
        if !user.may_sign_in() {
            return Err(AppError::invalid(
                "user",
                format!(
                    "{} is {} and may not use tokens",
                    user.login(),
                    user.status()
                ),
            ));
        }
        let secret = TokenSecret::generate(who.org_id);
        let token = ApiToken {
            id: TokenId::new(),
            org_id: who.org_id,
            user_id: user.id(),
            name,
            digest: secret.digest(),
            created_at: self.now(),
            revoked_at: None,
        };
        let mut uow = self.store.begin().await?;
        uow.insert_token(&token).await?;
        uow.commit().await?;
        Ok((token, secret.reveal()))
    }

    /// Revokes a token of the org: admins only.
    pub async fn revoke_token(&self, who: &Principal, id: TokenId) -> Result<(), AppError> {
        who.require_admin()?;
        let mut uow = self.store.begin().await?;
        if !uow.revoke_token(who.org_id, id, self.now()).await? {
            return Err(AppError::NotFound("live token"));
        }
        uow.commit().await?;
        Ok(())
    }

    /// The org's tokens (never their secrets): admins only.
    pub async fn tokens(&self, who: &Principal) -> Result<Vec<ApiToken>, AppError> {
        who.require_admin()?;
        Ok(self.store.tokens(who.org_id).await?)
    }

    /// Who a presented token speaks for. Refused when malformed, unknown, revoked, or when its
    /// user may no longer sign in (the status rules decide, at every request).
    pub async fn authenticate_token(&self, presented: &str) -> Result<Principal, AppError> {
        let secret = TokenSecret::parse(presented).ok_or(AppError::Unauthenticated)?;
        let token = self
            .store
            .token_by_digest(secret.org_id, &secret.digest())
            .await?
            .filter(|token| token.revoked_at.is_none())
            .ok_or(AppError::Unauthenticated)?;
        let user = self
            .store
            .user(token.org_id, token.user_id)
            .await?
            .filter(User::may_sign_in)
            .ok_or(AppError::Unauthenticated)?;
        Ok(Principal::token(&token, &user))
    }
}
