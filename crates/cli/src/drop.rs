//! Drop folders: `rollcall serve` watches the folders sources name (where SFTP delivers nightly
//! files) and imports each new complete file once, moving it aside with its outcome.
//!
//! A file is complete when its size and modification time are the same on two scans in a row;
//! names starting with `.` or ending in `.tmp`, `.part`, `.partial` or `.filepart` (uploads in
//! progress) are left alone. Several server processes may watch one folder: each file (by name
//! and SHA-256) is claimed through the database, and only the process that claimed it imports it
//! and moves it to `processed/` as `<UTC time>-<outcome>-<name>` (`applied`, `held`, `refused`,
//! `failed`), with the problems of a refused file beside it in a `.problems.txt`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rollcall_app::{App, ImportOutcome, ImportRequest, Principal};
use rollcall_domain::provisioning::SourceSettings;
use rollcall_domain::token::sha256_hex;

/// Watches every drop folder, a scan each `every` seconds (0: never), until the process ends.
/// A folder under the server's drop `root` is read only while it really lies in its org's own
/// folder there (no link inside the root leads it into another org's folder).
pub async fn watch(app: App, every: u64, root: Option<PathBuf>) {
    if every == 0 {
        return;
    }
    let interval = Duration::from_secs(every);
    let me = format!(
        "{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "server".to_owned()),
        std::process::id()
    );
    let mut seen = HashMap::new();
    loop {
        if let Err(err) = scan(&app, &mut seen, &me, root.as_deref()).await {
            tracing::warn!(error = %err, "drop folders could not be scanned");
        }
        tokio::time::sleep(interval).await;
    }
}

/// What a file looked like at the last scan.
type Seen = HashMap<PathBuf, (u64, SystemTime)>;

async fn scan(
    app: &App,
    seen: &mut Seen,
    me: &str,
    root: Option<&Path>,
) -> Result<(), rollcall_app::AppError> {
    let mut still_there = Seen::new();
    for source in app.drop_folder_sources().await? {
        let Some(folder) = source.drop_folder.as_deref() else {
            continue;
        };
        if let Some(root) = root.filter(|root| Path::new(folder).starts_with(root)) {
            let base = root.join(app.org(source.org_id).await?.slug.as_str());
            if !lies_within(Path::new(folder), &base) {
                tracing::warn!(
                    folder,
                    source = source.name.as_str(),
                    "drop folder is not inside its org's own folder of the drop root (a link \
                     leads elsewhere, or it does not exist yet): not read"
                );
                continue;
            }
        }
        for path in complete_files(Path::new(folder), seen, &mut still_there) {
            import_one(app, &source, &path, me).await;
            still_there.remove(&path);
        }
    }
    *seen = still_there;
    Ok(())
}

/// Whether `folder`, its links followed, lies inside `base`, its links followed.
fn lies_within(folder: &Path, base: &Path) -> bool {
    match (folder.canonicalize(), base.canonicalize()) {
        (Ok(folder), Ok(base)) => folder.starts_with(base),
        _ => false,
    }
}

/// The folder's files that look the same as at the last scan; every file's look is noted in
/// `now` for the next one.
fn complete_files(folder: &Path, before: &Seen, now: &mut Seen) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(err) => {
            tracing::warn!(folder = %folder.display(), error = %err, "drop folder cannot be read");
            return Vec::new();
        }
    };
    let mut ready = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_lowercase();
        let in_progress = [".tmp", ".part", ".partial", ".filepart"]
            .iter()
            .any(|end| name.ends_with(end));
        if name.starts_with('.') || in_progress {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let shape = (
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        if before.get(&path) == Some(&shape) {
            ready.push(path.clone());
        }
        now.insert(path, shape);
    }
    ready.sort();
    ready
}

async fn import_one(app: &App, source: &SourceSettings, path: &Path, me: &str) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let checksum = sha256_hex(&bytes);
    match app.claim_drop(source, &name, &checksum, me).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(err) => {
            tracing::warn!(file = %name, error = %err, "a dropped file could not be claimed");
            return;
        }
    }
    let who = Principal::system(
        source.org_id,
        &format!("drop folder of {}", source.name.as_str()),
    );
    let request = ImportRequest {
        source: source.name.as_str().to_owned(),
        file_name: name.clone(),
        ..ImportRequest::default()
    };
    let (word, problems) = match app.import(&who, &request, bytes.into()).await {
        Ok(ImportOutcome::Applied { .. }) => ("applied", Vec::new()),
        Ok(ImportOutcome::Held { .. }) => ("held", Vec::new()),
        Ok(ImportOutcome::Refused(problems)) => (
            "refused",
            problems.iter().map(ToString::to_string).collect(),
        ),
        Ok(ImportOutcome::Preview(_)) => ("previewed", Vec::new()),
        Err(err) => ("failed", vec![err.to_string()]),
    };
    tracing::info!(source = source.name.as_str(), file = %name, outcome = word, "dropped file imported");
    if let Err(err) = move_aside(path, &name, word, &problems) {
        tracing::warn!(file = %name, error = %err, "a dropped file could not be moved aside");
    }
}

/// Moves the file to `processed/<UTC time>-<outcome>-<name>`, with its problems beside it.
fn move_aside(path: &Path, name: &str, word: &str, problems: &[String]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new(".")).join("processed");
    std::fs::create_dir_all(&folder)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let target = folder.join(format!("{stamp}-{word}-{name}"));
    std::fs::rename(path, &target)?;
    if !problems.is_empty() {
        let mut report = target.into_os_string();
        report.push(".problems.txt");
        std::fs::write(report, problems.join("\n") + "\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::lies_within;

    #[test]
    fn a_link_out_of_the_orgs_folder_does_not_lie_within_it() {
        let root = tempfile::tempdir().unwrap();
        let acme = root.path().join("acme");
        let globex = root.path().join("globex").join("sis");
        std::fs::create_dir_all(acme.join("sis")).unwrap();
        std::fs::create_dir_all(&globex).unwrap();
        std::os::unix::fs::symlink(&globex, acme.join("x")).unwrap();
        assert!(lies_within(&acme.join("sis"), &acme));
        assert!(
            !lies_within(&acme.join("x"), &acme),
            "a link to another org's folder"
        );
        assert!(!lies_within(&acme.join("sis/../../globex/sis"), &acme));
        assert!(!lies_within(&acme.join("missing"), &acme), "not there yet");
    }
}
