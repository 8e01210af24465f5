//! The capture pipeline (being written).
