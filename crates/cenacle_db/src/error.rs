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
}
