//! Any text as a PutDashboard DashboardBody: validated as CloudWatch does. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::services::cloudwatch::dashboards;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = dashboards::validate_body(text);
});
