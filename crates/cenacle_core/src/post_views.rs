//! Views of posts: one per viewer, post and UTC day, counted when the API serves a post.
//! Nothing identifies an anonymous viewer beyond the day: their address and user agent are
//! hashed with the day's random salt, and the salt and the day's rows go the next day.
//! Robots (by user agent, `cenacle_domain::insights::is_bot`) are not counted.

use crate::{Conn, CoreError};
use cenacle_db::insights::{self as store, ViewCount, Viewer};
use cenacle_domain::insights::is_bot;
use chrono::Utc;

/// Who is reading a post.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// The signed-in person, if any.
    pub person_id: Option<i64>,
    /// The post's author: their own views are not counted.
    pub author_id: i64,
    /// The client's address (as per-address limits see it).
    pub address: &'a str,
    pub user_agent: Option<&'a str>,
}

/// Forgets who viewed on the days before today (their rows and the days' salts), up to
/// `limit` rows; how many (call again while it returns `limit`). The first view of a day does
/// it too; this runs hourly so that nothing is kept long past its day when nobody reads.
pub async fn forget_past_days(conn: &mut Conn, limit: i64) -> Result<usize, CoreError> {
    Ok(store::forget_views_before(conn, Utc::now().date_naive(), limit).await?)
}

/// Counts `reader`'s view of `post_id` (already found readable by them); true when it was
/// their first today. One statement in the usual case; the first view of a day also starts
/// the day (new salt, yesterday's rows deleted).
pub async fn count_view(
    conn: &mut Conn,
    post_id: i64,
    reader: Reader<'_>,
) -> Result<bool, CoreError> {
    if is_bot(reader.user_agent) || reader.person_id == Some(reader.author_id) {
        return Ok(false);
    }
    let fingerprint = format!(
        "{}\n{}",
        reader.address,
        reader.user_agent.unwrap_or_default()
    );
    let viewer = match reader.person_id {
        Some(id) => Viewer::Person(id),
        None => Viewer::Anonymous(&fingerprint),
    };
    let day = Utc::now().date_naive();
    let mut outcome = store::count_view(conn, post_id, day, &viewer).await?;
    if outcome == ViewCount::Unsalted {
        store::start_view_day(conn, day).await?;
        outcome = store::count_view(conn, post_id, day, &viewer).await?;
    }
    Ok(outcome == ViewCount::Counted)
}
