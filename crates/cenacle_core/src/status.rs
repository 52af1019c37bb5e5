//! The instance's own health, for probes.

use crate::{Conn, CoreError};

/// The database answers a trivial query.
pub async fn ping(conn: &mut Conn) -> Result<(), CoreError> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("SELECT 1").execute(conn).await?;
    Ok(())
}
