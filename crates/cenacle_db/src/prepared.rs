//! Raw SQL statements prepared once per connection.
//!
//! diesel never caches the plan of a `sql_query` (its text could be built from anything), so
//! PostgreSQL parses and plans it at every call — for the CTEs of the busiest paths (a vote,
//! its ledgers, its relay) that planning costs more than the work. A statement whose text is
//! a constant is safe to prepare once per connection and reuse; [`Prepared`] says so.

use diesel::{
    pg::Pg,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    QueryResult,
};

/// A statement whose SQL text never changes (only its bound values do).
pub struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // The statement cache keys it by its text and bind types.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

/// `.prepared()` on a query built with constant text.
pub trait PrepareOnce: Sized {
    fn prepared(self) -> Prepared<Self> {
        Prepared(self)
    }
}

impl<Q: QueryFragment<Pg>> PrepareOnce for Q {}
