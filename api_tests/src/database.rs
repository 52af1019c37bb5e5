//! An instance's embedded PostgreSQL, read directly: what a test checks was (or was not)
//! stored.

use crate::Instance;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

pub async fn connect(instance: &Instance) -> AsyncPgConnection {
    AsyncPgConnection::establish(&instance.database_url())
        .await
        .unwrap_or_else(|e| panic!("connect to {}'s database: {e}", instance.name))
}

/// The value of a query returning one bigint (`SELECT count(*) …`).
pub async fn number(conn: &mut AsyncPgConnection, query: &str) -> i64 {
    diesel::select(diesel::dsl::sql::<BigInt>(&format!("({query})")))
        .get_result(conn)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// Runs a statement that returns no rows (a lock, an insert, a trigger).
pub async fn execute(conn: &mut AsyncPgConnection, statement: &str) {
    diesel::sql_query(statement)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// An SQL string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
