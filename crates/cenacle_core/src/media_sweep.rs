//! The sweep of orphan uploads: files stored for a post or a lesson that was never written.
//!
//! The composer and the lesson editor store an image as soon as it is previewed; when the
//! author then leaves, or the save is refused, its row and file stayed forever. The sweep
//! forgets the uploads nothing refers to (see [`cenacle_db::media::delete_orphan_media`] for
//! what refers to one) once they are older than the [`grace`], then removes their files.
//!
//! It also removes the files no upload row names ([`remove_rowless_files`]): an upload's file
//! is written before its row is recorded, so a refused record or a process stopped in between
//! leaves one, as does a crash mid-write (its `.part` temporary) or a swept upload's file
//! whose removal failed. Nothing would ever serve or remove them.

use crate::{
    media::{is_stored_file_name, media_dir},
    Conn, Context, CoreError,
};
use chrono::{DateTime, Duration, Utc};
use std::{collections::HashSet, future::Future, path::Path, time::SystemTime};

/// How old an upload nothing refers to (or a file no upload names) must be before it is
/// swept: an author may still be writing the post or lesson it was previewed in. The setting
/// `media.sweep_grace_seconds`: a day by default, generous for any draft while still bounding
/// the waste; an operator may keep drafts' images longer, tests wait seconds (its bounds, and
/// why, are `cenacle_config`'s).
pub fn grace(ctx: &Context) -> Duration {
    // The configuration bounds it to 30 days, far inside a `Duration`.
    Duration::from_std(ctx.settings.media.sweep_grace()).unwrap_or(Duration::days(30))
}

/// How many uploads one transaction forgets: the rows stay locked until it commits.
pub const BATCH: i64 = 500;

/// How many old files are looked up at once (one query): the directory is read in chunks
/// of this many names, so that one of millions is never read into memory at once.
pub const FILES_CHUNK: usize = 5_000;

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

/// One pass of the sweep, `batch` uploads at a time until a short batch, or until
/// `stopped()` (asked before each batch: a server stopping does not wait for a pass over a
/// long backlog; the next pass takes it up). The caller runs the transactions (core opens
/// none): `forget(batch)` runs [`forget_orphan_uploads`] in its own transaction and returns
/// once it has committed; the batch's files are removed after that. An error ends the pass
/// (the next one starts over); what it did before stands.
pub async fn sweep_orphan_uploads<F, FF>(
    ctx: &Context,
    batch: i64,
    stopped: impl Fn() -> bool,
    mut forget: F,
) -> Result<MediaSwept, CoreError>
where
    F: FnMut(i64) -> FF,
    FF: Future<Output = Result<Vec<String>, CoreError>>,
{
    assert!(batch > 0, "a sweep batch holds at least one upload");
    let mut swept = MediaSwept::default();
    while !stopped() {
        let forgotten = forget(batch).await?;
        swept.forgotten += forgotten.len();
        let short = (forgotten.len() as i64) < batch;
        swept.files_kept += remove_files(ctx, forgotten).await;
        if short {
            break;
        }
    }
    Ok(swept)
}

/// Removes the files of the media directory that no upload row names (see the module's
/// note), once older than the [`grace`] at `now` (by then an upload's row has long been
/// recorded or refused), reading the directory `chunk` names at a time, until `stopped()`
/// (asked before each chunk); returns how many were removed.
///
/// Only names shaped as uploads are stored are touched, and nothing is removed from a folder
/// this database does not look like the owner of ([`folder_is_the_databases`]): it then
/// belongs to another database (a wrong `DATABASE_URL`, a restored or not yet loaded dump),
/// whose files must not all go. An error is returned then, for the admin to read.
pub async fn remove_rowless_files(
    conn: &mut Conn,
    ctx: &Context,
    now: SystemTime,
    chunk: usize,
    stopped: impl Fn() -> bool,
) -> Result<usize, CoreError> {
    assert!(chunk > 0, "a chunk holds at least one file");
    // (A grace reaching before 1970 spares every file.)
    let written_before = now
        .checked_sub(ctx.settings.media.sweep_grace())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let dir = media_dir(ctx);
    let sample = {
        let uploaded_before = DateTime::<Utc>::from(written_before);
        cenacle_db::media::old_upload_file_names(conn, uploaded_before, OWNER_SAMPLE).await?
    };
    let sampled = sample.len();
    let present = {
        let dir = dir.clone();
        let present = move || sample.iter().filter(|f| dir.join(f).exists()).count();
        tokio::task::spawn_blocking(present)
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?
    };
    if !folder_is_the_databases(sampled, present) {
        if sampled == 0 {
            // A new instance: no day-old upload to judge the folder by, and no strays worth it.
            return Ok(0);
        }
        return Err(CoreError::Internal(format!(
            "of {sampled} old uploads this database records, {present} have their file in the \
             media folder: the folder does not look like this database's (restore them \
             together); files without an upload row are left"
        )));
    }
    // The directory is read on a blocking thread, a chunk ahead of the lookups.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let reader = tokio::task::spawn_blocking(move || old_files(&dir, written_before, chunk, tx));
    let mut removed = 0;
    while let Some(old) = rx.recv().await {
        if stopped() {
            // The reader stops at its next chunk, once it finds no one listening.
            drop(rx);
            break;
        }
        let recorded: HashSet<String> = cenacle_db::media::recorded_file_names(conn, &old)
            .await?
            .into_iter()
            .collect();
        let rowless: Vec<String> = old.into_iter().filter(|f| !recorded.contains(f)).collect();
        removed += rowless.len() - remove_files(ctx, rowless).await;
    }
    match reader.await {
        Ok(Ok(())) => {}
        // No media directory yet: nothing was ever uploaded.
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::NotFound => {}
        Ok(Err(err)) => tracing::warn!(error = %err, "reading the media directory failed"),
        Err(err) => tracing::error!(error = %err, "reading the media directory failed"),
    }
    if removed > 0 {
        tracing::info!(removed, "media files without an upload row removed");
    }
    Ok(removed)
}

/// How many of the database's old uploads are looked for in the folder before anything is
/// removed from it.
const OWNER_SAMPLE: i64 = 20;

/// Whether the media folder is the database's, judged by `present` of the `sampled` latest
/// old uploads it records having their file there: what members do (uploads refused or cut
/// off leave files without rows) cannot change that, while another database's uploads are not
/// in this folder. A database that records no old upload has nothing to judge by.
fn folder_is_the_databases(sampled: usize, present: usize) -> bool {
    sampled > 0 && present * 2 > sampled
}

/// Sends the names of the upload files in `dir` last written before `written_before`, `chunk`
/// at a time; stops early if the receiver is gone. A file gone meanwhile (an upload's
/// temporary renamed, a swept upload's file removed) is passed over, as is one that cannot be
/// read (logged): one entry never stops the pass.
fn old_files(
    dir: &Path,
    written_before: SystemTime,
    chunk: usize,
    tx: tokio::sync::mpsc::Sender<Vec<String>>,
) -> std::io::Result<()> {
    let mut old = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        // The pass stopped: no need to read a large folder to its end before finding out.
        if tx.is_closed() {
            return Ok(());
        }
        let looked = entry.and_then(|entry| {
            let metadata = entry.metadata()?;
            let written = metadata.modified()?;
            Ok((
                entry.file_name(),
                metadata.is_file() && written < written_before,
            ))
        });
        let name = match looked {
            Ok((name, true)) => name,
            Ok((_, false)) => continue,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                tracing::warn!(error = %err, "a media file could not be looked at: passed over");
                continue;
            }
        };
        // Only what `store_file` writes: anything else was put there by someone else.
        let Some(name) = name.into_string().ok().filter(|n| is_stored_file_name(n)) else {
            continue;
        };
        old.push(name);
        if old.len() == chunk && tx.blocking_send(std::mem::take(&mut old)).is_err() {
            return Ok(());
        }
    }
    if !old.is_empty() {
        let _ = tx.blocking_send(old);
    }
    Ok(())
}

/// Removes files from the media directory (forgotten uploads', or files no upload names), and
/// returns how many could not be (each logged). A file already gone is fine: removing it is what was wanted.
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
        tracing::error!(error = %err, "removing swept media files failed");
        0
    })
}

/// Whether `name` is gone from `dir` (removed now or already missing).
fn remove_file(dir: &Path, name: &str) -> bool {
    // Only a bare name may be removed: a row is never a way out of the media directory.
    if Path::new(name).file_name() != Some(name.as_ref()) {
        tracing::error!(
            file = name,
            "a swept media file's name is not a file name: kept"
        );
        return false;
    }
    match std::fs::remove_file(dir.join(name)) {
        Ok(()) => true,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => true,
        Err(err) => {
            tracing::warn!(file = name, error = %err, "removing a swept media file failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_is_the_databases_when_most_of_its_old_uploads_are_there() {
        assert!(folder_is_the_databases(20, 20));
        assert!(folder_is_the_databases(20, 11));
        assert!(!folder_is_the_databases(20, 10));
        assert!(folder_is_the_databases(1, 1));
        assert!(!folder_is_the_databases(1, 0));
        // Nothing to judge by.
        assert!(!folder_is_the_databases(0, 0));
    }

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
