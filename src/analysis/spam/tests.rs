//! End-to-end tests of `assess`: findings, spans, behaviour and history.
