//! The sweep of orphan uploads: files stored for a post or a lesson that was never written.
//!
//! The composer and the lesson editor store an image as soon as it is previewed; when the
//! author then leaves, or the save is refused, its row and file stayed forever. The sweep
//! forgets the uploads nothing refers to (see [`cenacle_db::media::delete_orphan_media`] for
//! what refers to one) once they are older than [`GRACE`], then removes their files.

use crate::{media::media_dir, Conn, Context, CoreError};
use chrono::{DateTime, Duration, Utc};
use std::{future::Future, path::Path};

/// How old an upload nothing refers to must be before it is swept: an author may still be
/// writing the post or lesson it was previewed in. A constant rather than a setting: the
/// settings live in `cenacle_config`, which this sweep does not own, and a day is generous
/// for any draft while still bounding the waste.
pub const GRACE: Duration = Duration::hours(24);

/// How many uploads one transaction forgets: the rows stay locked until it commits.
pub const BATCH: i64 = 500;

/// In the caller's transaction: forgets up to `limit` uploads made before `uploaded_before`
/// that nothing refers to, and returns their file names, to be removed by [`remove_files`]
/// once the transaction has committed (a rolled-back one must keep its files).
pub async fn forget_orphan_uploads(
    conn: &mut Conn,
    uploaded_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, CoreError> {
    Ok(cenacle_db::media::delete_orphan_media(conn, uploaded_before, limit).await?)
}

/// What one pass of the sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MediaSwept {
    /// Uploads forgotten (their rows deleted).
    pub forgotten: usize,
    /// Their files that could not be removed (each logged): left on disk, with no row.
    pub files_kept: usize,
}

/// One pass of the sweep, `batch` uploads at a time until a short batch. The caller runs the
/// transactions (core opens none): `forget(batch)` runs [`forget_orphan_uploads`] in its own
/// transaction and returns once it has committed; the batch's files are removed after that.
/// An error ends the pass (the next one starts over); what it did before stands.
pub async fn sweep_orphan_uploads<F, FF>(
    ctx: &Context,
    batch: i64,
    mut forget: F,
) -> Result<MediaSwept, CoreError>
where
    F: FnMut(i64) -> FF,
    FF: Future<Output = Result<Vec<String>, CoreError>>,
{
    assert!(batch > 0, "a sweep batch holds at least one upload");
    let mut swept = MediaSwept::default();
    loop {
        let forgotten = forget(batch).await?;
        swept.forgotten += forgotten.len();
        let short = (forgotten.len() as i64) < batch;
        swept.files_kept += remove_files(ctx, forgotten).await;
        if short {
            return Ok(swept);
        }
    }
}

/// Removes forgotten uploads' files from the media directory, and returns how many could not
/// be (each logged). A file already gone is fine: removing it is what was wanted.
pub async fn remove_files(ctx: &Context, file_names: Vec<String>) -> usize {
    let dir = media_dir(ctx);
    let removal = tokio::task::spawn_blocking(move || {
        file_names
            .iter()
            .filter(|name| !remove_file(&dir, name))
            .count()
    })
    .await;
    removal.unwrap_or_else(|err| {
        tracing::error!(error = %err, "removing swept uploads' files failed");
        0
    })
}

/// Whether `name` is gone from `dir` (removed now or already missing).
fn remove_file(dir: &Path, name: &str) -> bool {
    // Only a bare name may be removed: a row is never a way out of the media directory.
    if Path::new(name).file_name() != Some(name.as_ref()) {
        tracing::error!(
            file = name,
            "a swept upload's name is not a file name: kept"
        );
        return false;
    }
    match std::fs::remove_file(dir.join(name)) {
        Ok(()) => true,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => true,
        Err(err) => {
            tracing::warn!(file = name, error = %err, "removing a swept upload's file failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_names_in_the_directory_are_removed() {
        let root =
            std::env::temp_dir().join(format!("cenacle-sweep-{}", crate::identity::random_id()));
        let dir = root.join("media");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.png"), b"x").unwrap();
        assert!(remove_file(&dir, "a.png"));
        assert!(!dir.join("a.png").exists());
        // Already gone: nothing to do.
        assert!(remove_file(&dir, "a.png"));
        let outside = root.join("outside.png");
        std::fs::write(&outside, b"x").unwrap();
        assert!(!remove_file(&dir, "../outside.png"));
        assert!(outside.exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
