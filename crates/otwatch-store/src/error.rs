//! The store error: what went wrong, in terms the caller can act on.

use otwatch_model::lifecycle::LifecycleError;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No object with that id.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of object ("alert", "device"…).
        what: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// The lifecycle refuses the action.
    #[error("alert {id}: {error}")]
    Lifecycle {
        /// The alert.
        id: i64,
        /// Why.
        error: LifecycleError,
    },
    /// The change conflicts with stored state (duplicate name, newer alert…).
    #[error("{0}")]
    Conflict(String),
    /// A request value is invalid; names the field.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The data directory was written by a newer otwatch.
    #[error(
        "the data directory {path} has schema version {found}, but this otwatch supports up to {supported}; \
         upgrade otwatch (it was written by a newer version) — nothing was changed"
    )]
    SchemaTooNew {
        /// Database file.
        path: String,
        /// Version found.
        found: u32,
        /// Highest version this build knows.
        supported: u32,
    },
    /// The storage is full.
    #[error("storage is full ({0}); free space and retry — nothing stored was lost")]
    Full(String),
    /// A read took longer than its time limit and was stopped.
    #[error("the query ran longer than its time limit ({0}) and was stopped")]
    TimeLimit(String),
    /// Any other backend failure.
    #[error("storage error: {0}")]
    Backend(String),
}

impl StoreError {
    /// An `Invalid` error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Invalid { field: field.into(), message: message.into() }
    }

    /// A `NotFound` error.
    pub fn not_found(what: &'static str, id: impl ToString) -> StoreError {
        StoreError::NotFound { what, id: id.to_string() }
    }
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
