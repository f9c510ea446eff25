//! Orgs: created by an operator at the command line.

use rollcall_domain::{Org, OrgName, OrgSlug};

use crate::error::{Errors, lost_field};
use crate::{App, AppError};

impl App {
    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Org, AppError> {
        let mut errors = Errors::default();
        let slug = errors.take(OrgSlug::parse(slug));
        let name = errors.take(OrgName::parse(name));
        errors.finish()?;
        let (Some(slug), Some(name)) = (slug, name) else {
            return Err(lost_field());
        };
        let org = Org::new(slug, name, self.now());
        let mut uow = self.store.begin().await?;
        uow.insert_org(&org).await?;
        uow.commit().await?;
        Ok(org)
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Org, AppError> {
        let slug = OrgSlug::parse(slug)?;
        self.store
            .org_by_slug(&slug)
            .await?
            .ok_or(AppError::NotFound("org"))
    }
}
