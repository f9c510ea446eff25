//! Provisioning sources and their import runs: a file is read, planned against the org's users
//! (a preview anyone can read), then applied in one unit of work, all or nothing; a run that
//! would remove too many people at once waits for an admin (see [`runs`]).

mod runs;

pub(crate) use runs::IMPORT_PART;

use rollcall_domain::Source;
use rollcall_domain::SourceId;
use rollcall_domain::provisioning::{
    Format, MissingPolicy, Mode, ProvisioningSettings, Safeguard, SourceSettings,
};

use crate::{App, AppError, Principal};

pub use runs::{ImportOutcome, ImportRequest, Undo};

/// A new source as typed.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub name: String,
    pub format: String,
    pub mode: String,
    pub policy: MissingPolicy,
}

impl App {
    /// Adds a provisioning source to the org.
    pub async fn add_source(
        &self,
        who: &Principal,
        new: NewSource,
    ) -> Result<SourceSettings, AppError> {
        who.require_admin()?;
        let name = Source::parse(&new.name)?;
        if name.is_manual() {
            return Err(AppError::invalid(
                "name",
                "'manual' is how users added by hand are marked; choose another name",
            ));
        }
        let format = new.format.replace('-', "_").parse::<Format>()?;
        if format == Format::Scim {
            return Err(AppError::invalid(
                "format",
                "a SCIM connection is added with its token: POST /api/v1/scim-connections, \
                 `rollcall scim add`, or the console's Sources page",
            ));
        }
        let source = SourceSettings {
            id: SourceId::new(),
            org_id: who.org_id,
            name,
            format,
            mode: new.mode.parse::<Mode>()?,
            policy: new.policy,
            paused: false,
            drop_folder: None,
            created_at: self.now(),
            version: 0,
        };
        let mut uow = self.store.begin().await?;
        insert_source(uow.as_mut(), &source).await?;
        uow.commit().await?;
        Ok(source)
    }

    pub async fn provisioning_sources(
        &self,
        who: &Principal,
    ) -> Result<Vec<SourceSettings>, AppError> {
        who.require_admin()?;
        Ok(self.store.provisioning_sources(who.org_id).await?)
    }

    pub async fn source(&self, who: &Principal, name: &str) -> Result<SourceSettings, AppError> {
        who.require_admin()?;
        // A name no source could have names none.
        let name = Source::parse(name).map_err(|_| AppError::NotFound("source"))?;
        self.store
            .source_by_name(who.org_id, &name)
            .await?
            .ok_or(AppError::NotFound("source"))
    }

    /// Pauses a source (its runs are refused) or resumes it.
    pub async fn set_source_paused(
        &self,
        who: &Principal,
        name: &str,
        paused: bool,
    ) -> Result<SourceSettings, AppError> {
        let source = self.source(who, name).await?;
        let mut uow = self.store.begin().await?;
        if !uow.set_source_paused(who.org_id, source.id, paused).await? {
            return Err(AppError::NotFound("source"));
        }
        uow.commit().await?;
        Ok(SourceSettings { paused, ..source })
    }

    /// Names the folder `rollcall serve` watches for the source's files (an absolute path), or
    /// stops watching (`None`).
    pub async fn set_drop_folder(
        &self,
        who: &Principal,
        name: &str,
        folder: Option<&str>,
    ) -> Result<SourceSettings, AppError> {
        let source = self.source(who, name).await?;
        let folder = folder.map(str::trim).filter(|f| !f.is_empty());
        if let Some(folder) = folder {
            let absolute = std::path::Path::new(folder).is_absolute();
            if !absolute || folder.chars().any(char::is_control) || folder.len() > 1_000 {
                return Err(AppError::invalid(
                    "drop_folder",
                    "must be an absolute path on the server (like /srv/sftp/sis)",
                ));
            }
        }
        let mut uow = self.store.begin().await?;
        if !uow.set_drop_folder(who.org_id, source.id, folder).await? {
            return Err(AppError::NotFound("source"));
        }
        uow.commit().await?;
        Ok(SourceSettings {
            drop_folder: folder.map(str::to_owned),
            ..source
        })
    }

    /// The org's own folder under the server's drop `root`: where its admins name their
    /// sources' drop folders.
    pub async fn drop_base(
        &self,
        who: &Principal,
        root: &std::path::Path,
    ) -> Result<std::path::PathBuf, AppError> {
        who.require_admin()?;
        let org = self.org(who.org_id).await?;
        Ok(root.join(org.slug.as_str()))
    }

    /// Sets (a folder name under the org's own folder of the server's drop `root`, see
    /// [`App::set_drop_folder_under`]) or stops (`None`) a source's drop folder, as an org's
    /// admin may: refused when the server has no drop root.
    pub async fn set_drop_folder_as_admin(
        &self,
        who: &Principal,
        source: &str,
        folder: Option<&str>,
        root: Option<&std::path::Path>,
    ) -> Result<SourceSettings, AppError> {
        match (folder, root) {
            (None, _) => self.set_drop_folder(who, source, None).await,
            (Some(folder), Some(root)) => {
                self.set_drop_folder_under(who, source, root, folder).await
            }
            (Some(_), None) => Err(AppError::conflict(
                "drop_folder",
                "this server has no drop root (--drop-root) for organisations' folders: its \
                 operator sets drop folders with 'rollcall source watch'",
            )),
        }
    }

    /// Sets a source's drop folder as an org's admin may: `name` (like `sis/nightly`, plain
    /// folder names only) under the org's own folder of the server's drop root,
    /// `<root>/<org slug>/<name>`. Only the server's operator names any folder on the server
    /// ([`App::set_drop_folder`], from the CLI): an admin naming another org's folder, or the
    /// server's own files, would import or move what is not theirs.
    pub async fn set_drop_folder_under(
        &self,
        who: &Principal,
        source: &str,
        root: &std::path::Path,
        name: &str,
    ) -> Result<SourceSettings, AppError> {
        let name = name.trim().trim_end_matches('/');
        let plain = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if name.is_empty() || name.len() > 200 || !name.split('/').all(plain) {
            return Err(AppError::invalid(
                "drop_folder",
                "must be a folder name under your organisation's drop folder (like sis or \
                 sis/nightly: letters, digits, '-', '_' and '.', parts separated by '/')",
            ));
        }
        let folder = self.drop_base(who, root).await?.join(name);
        self.set_drop_folder(who, source, Some(&folder.to_string_lossy()))
            .await
    }

    /// Every org's sources that name a drop folder. For the server's folder watcher, which
    /// acts as each source's org ([`Principal::system`]).
    pub async fn drop_folder_sources(&self) -> Result<Vec<SourceSettings>, AppError> {
        Ok(self.store.drop_folder_sources().await?)
    }

    /// Claims a dropped file for import by this process (`by`); `false` when another server
    /// process claimed the same file (name and SHA-256) first.
    pub async fn claim_drop(
        &self,
        source: &SourceSettings,
        file_name: &str,
        checksum: &str,
        by: &str,
    ) -> Result<bool, AppError> {
        let mut uow = self.store.begin().await?;
        let claimed = uow
            .claim_drop(
                source.org_id,
                source.id,
                file_name,
                checksum,
                by,
                self.now(),
            )
            .await?;
        uow.commit().await?;
        Ok(claimed)
    }

    /// The org's provisioning settings: the safeguard, and what happens to a held run's rest.
    pub async fn provisioning_settings(
        &self,
        who: &Principal,
    ) -> Result<ProvisioningSettings, AppError> {
        who.require_admin()?;
        Ok(self.store.provisioning_settings(who.org_id).await?)
    }

    /// Sets the org's provisioning settings; a field left `None` keeps its value.
    pub async fn set_provisioning_settings(
        &self,
        who: &Principal,
        change: SettingsChange,
    ) -> Result<ProvisioningSettings, AppError> {
        let current = self.provisioning_settings(who).await?;
        let safeguard = Safeguard::new(
            change
                .safeguard_percent
                .unwrap_or(current.safeguard.percent),
            change.safeguard_floor.unwrap_or(current.safeguard.floor),
        )?;
        let settings = ProvisioningSettings {
            safeguard,
            apply_rest_when_held: change
                .apply_rest_when_held
                .unwrap_or(current.apply_rest_when_held),
        };
        let mut uow = self.store.begin().await?;
        uow.put_provisioning_settings(who.org_id, &settings).await?;
        uow.commit().await?;
        Ok(settings)
    }

    /// A source by id (runs name theirs by id).
    async fn source_by_id(
        &self,
        who: &Principal,
        id: SourceId,
    ) -> Result<SourceSettings, AppError> {
        self.store
            .provisioning_sources(who.org_id)
            .await?
            .into_iter()
            .find(|source| source.id == id)
            .ok_or(AppError::NotFound("source"))
    }
}

/// Writes a new source; a name another source of the org has is refused by field.
pub(crate) async fn insert_source(
    uow: &mut dyn rollcall_store::UnitOfWork,
    source: &SourceSettings,
) -> Result<(), AppError> {
    uow.insert_source(source).await.map_err(|err| match err {
        rollcall_store::StoreError::Conflict { .. } => {
            AppError::conflict("name", "another source of this org has this name")
        }
        other => other.into(),
    })
}

/// A change to the org's provisioning settings.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub safeguard_percent: Option<u32>,
    pub safeguard_floor: Option<usize>,
    pub apply_rest_when_held: Option<bool>,
}
