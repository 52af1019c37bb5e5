use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A storage failure. Constraint violations are kept apart so that the API can answer them
/// as client errors (409, 422) by constraint name.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(String),
    /// Every connection stayed busy for the whole configured wait: the server is overloaded,
    /// the client should come back shortly.
    #[error("no database connection free within the configured wait")]
    PoolTimeout,
    /// A lock another transaction held for longer than what was left of its transaction's
    /// bounded wait (a reader of an instance's verdicts while an admin's block of it runs, of a
    /// person's standing while a ban of them runs;
    /// see `federation::READ_LOCK_WAIT`): the transaction is given up (the caller rolls it
    /// back), nothing written, and the same request may be retried shortly.
    #[error("a lock stayed held by another transaction beyond the bounded wait")]
    LockBusy,
    #[error("database query: {0}")]
    Query(#[from] DieselError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// Which kind of constraint a write broke, with the constraint's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintViolation<'a> {
    Unique(&'a str),
    Check(&'a str),
    ForeignKey(&'a str),
    NotNull(&'a str),
}

impl DbError {
    pub fn constraint_violation(&self) -> Option<ConstraintViolation<'_>> {
        let DbError::Query(DieselError::DatabaseError(kind, info)) = self else {
            return None;
        };
        let name = info.constraint_name().unwrap_or("");
        Some(match kind {
            DatabaseErrorKind::UniqueViolation => ConstraintViolation::Unique(name),
            DatabaseErrorKind::CheckViolation => ConstraintViolation::Check(name),
            DatabaseErrorKind::ForeignKeyViolation => ConstraintViolation::ForeignKey(name),
            DatabaseErrorKind::NotNullViolation => {
                ConstraintViolation::NotNull(info.column_name().unwrap_or(name))
            }
            _ => return None,
        })
    }
    /// Whether PostgreSQL gave up on the transaction because of a concurrent one — a
    /// serialization failure (40001) or a deadlock it broke (40P01) — so that the same request,
    /// retried, may well succeed. The driver reports 40P01 without its code (as an unknown
    /// kind): it is recognised by its message, PostgreSQL's English text — every pooled connection
    /// sets `lc_messages = 'C'` when it opens (see `pool::establish_in_c_locale`) — the writers lock in one order so that it does not
    /// happen, this only keeps a slip from being answered as our fault.
    pub fn is_transient_conflict(&self) -> bool {
        match self {
            DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                _,
            )) => true,
            DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)) => {
                info.message().starts_with("deadlock detected")
            }
            _ => false,
        }
    }

    /// Whether the database failed, not the query: no connection (none free in time, none
    /// could be opened, or the one held was lost: its server process ended, its socket
    /// closed, a statement cancelled by a timeout, a standby that cannot write), or a
    /// transaction given up because of another ([`DbError::is_transient_conflict`]). Such a
    /// failure says nothing about what was asked: asked again, it may well succeed. Messages
    /// are matched in PostgreSQL's English text, as for deadlocks.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Pool(_) | DbError::PoolTimeout | DbError::LockBusy => true,
            DbError::Query(DieselError::BrokenTransactionManager) => true,
            DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::ReadOnlyTransaction,
                _,
            )) => true,
            DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::Unknown, info))
                if [
                    "terminating connection",
                    "canceling statement due to",
                    "the database system is",
                ]
                .iter()
                .any(|start| info.message().starts_with(start)) =>
            {
                true
            }
            e => e.is_transient_conflict(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(kind: DatabaseErrorKind, message: &str) -> DbError {
        DbError::Query(DieselError::DatabaseError(
            kind,
            Box::new(message.to_owned()),
        ))
    }

    #[test]
    fn a_lost_connection_is_the_database_unavailable_and_a_refused_query_is_not() {
        let lost = [
            database(DatabaseErrorKind::UnableToSendCommand, "connection closed"),
            database(
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection",
            ),
            database(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            database(
                DatabaseErrorKind::Unknown,
                "canceling statement due to statement timeout",
            ),
            database(
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
            database(DatabaseErrorKind::Unknown, "deadlock detected"),
            DbError::PoolTimeout,
            DbError::LockBusy,
            DbError::Pool("connection refused".into()),
        ];
        for e in lost {
            assert!(e.is_unavailable(), "{e}");
        }
        let refused = [
            database(
                DatabaseErrorKind::Unknown,
                "invalid byte sequence for encoding \"UTF8\": 0x00",
            ),
            database(DatabaseErrorKind::UniqueViolation, "duplicate key value"),
            DbError::Query(DieselError::NotFound),
            DbError::Corrupt("a state not known".into()),
        ];
        for e in refused {
            assert!(!e.is_unavailable(), "{e}");
        }
    }

    #[test]
    fn serialization_failures_and_deadlocks_are_transient_conflicts() {
        assert!(database(
            DatabaseErrorKind::SerializationFailure,
            "could not serialize access due to concurrent update"
        )
        .is_transient_conflict());
        assert!(database(DatabaseErrorKind::Unknown, "deadlock detected").is_transient_conflict());
        assert!(!database(DatabaseErrorKind::Unknown, "syntax error").is_transient_conflict());
        assert!(!database(DatabaseErrorKind::CheckViolation, "x").is_transient_conflict());
        assert!(!DbError::PoolTimeout.is_transient_conflict());
    }
}
