//! The sign-in form's anti-forgery token. Before sign-in there is no session to bind a form
//! to, so the token is one the server signs: when it was issued, a random nonce, and their
//! HMAC under a key every server shares (kept in the database). The web layer also sets it as
//! a cookie and wants both back equal; a value the server did not sign, or one past
//! [`FORM_TOKEN_HOURS`], is refused.

use rollcall_domain::token::{is_signed, random_hex, sign};

use crate::{App, AppError};

/// How long a sign-in form stays good.
pub const FORM_TOKEN_HOURS: i64 = 12;

/// The name of the key in the servers' shared secrets.
const FORM_KEY: &str = "sign_in_form";

fn message(issued: i64, nonce: &str) -> String {
    format!("sign-in form\n{issued}\n{nonce}")
}

impl App {
    /// The shared key, read once per process (created by the first server that needs it).
    async fn form_key(&self) -> Result<&[u8], AppError> {
        self.form_key
            .get_or_try_init(|| async {
                let mut uow = self.store.begin().await?;
                let key = uow.server_secret(FORM_KEY, &random_hex()).await?;
                uow.commit().await?;
                Ok::<_, AppError>(key.into_bytes())
            })
            .await
            .map(Vec::as_slice)
    }

    /// A fresh token for a sign-in form.
    pub async fn sign_in_form_token(&self) -> Result<String, AppError> {
        let issued = self.now().timestamp();
        let nonce = random_hex();
        let signature = sign(self.form_key().await?, &message(issued, &nonce));
        Ok(format!("{issued}.{nonce}.{signature}"))
    }

    /// Whether `token` is one this deployment issued for a sign-in form, and still good.
    pub async fn sign_in_form_token_is_good(&self, token: &str) -> Result<bool, AppError> {
        let mut parts = token.splitn(3, '.');
        let (Some(issued), Some(nonce), Some(signature)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Ok(false);
        };
        let Ok(issued) = issued.parse::<i64>() else {
            return Ok(false);
        };
        let age = self.now().timestamp().saturating_sub(issued);
        if !(-60..=FORM_TOKEN_HOURS * 3600).contains(&age) {
            return Ok(false);
        }
        Ok(is_signed(
            self.form_key().await?,
            &message(issued, nonce),
            signature,
        ))
    }
}
