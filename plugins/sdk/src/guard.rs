//! Panic guards: nothing may unwind across the plugin boundary.

use std::panic::{AssertUnwindSafe, catch_unwind};

use hypasis_plugin_api::{ErrorKind, PluginError, PluginResult};

/// The text of a caught panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Runs `f`, turning a panic into a [`PluginError`] of kind `Panic`.
pub fn guard<T>(f: impl FnOnce() -> Result<T, PluginError>) -> PluginResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.into(),
        Err(payload) => Err(PluginError::new(
            ErrorKind::Panic,
            format!("plugin panicked: {}", panic_message(payload.as_ref())),
        ))
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_error() {
        let result: PluginResult<u32> = guard(|| panic!("boom at block {}", 7));
        let error = result.into_result().unwrap_err();
        assert_eq!(error.kind, ErrorKind::Panic);
        assert_eq!(error.message.as_str(), "plugin panicked: boom at block 7");
    }

    #[test]
    fn values_and_errors_pass_through() {
        assert_eq!(guard(|| Ok(5)).into_result(), Ok(5));
        let error = PluginError::new(ErrorKind::Unsupported, "no");
        assert_eq!(guard::<u8>(|| Err(error.clone())).into_result(), Err(error));
    }
}
