//! The mock-runtime harness every command test shares: the app built on Tauri's mock runtime with
//! a real `AppState` (a real core over a real SQLite file), its window, and a command call that
//! answers the command's JSON or its `ErrorReport`.
#![allow(dead_code, clippy::unwrap_used)]

use serde_json::Value;
use swagat_lib::AppState;
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

/// The app's window on the mock runtime.
pub type Win = tauri::WebviewWindow<tauri::test::MockRuntime>;

/// The app with its commands over `state`, and its main window.
pub fn app(state: AppState) -> (tauri::App<tauri::test::MockRuntime>, Win) {
    let app = swagat_lib::builder_on(mock_builder())
        .manage(state)
        .build(mock_context(noop_assets()))
        .unwrap();
    let win = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, win)
}

/// Invokes `cmd` with `body` as the UI would: the answer, or the error report.
pub fn invoke(win: &Win, cmd: &str, body: Value) -> Result<Value, Value> {
    get_ipc_response(
        win,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}
