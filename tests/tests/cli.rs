//! The `mmsc` command's operator tools.

mod common;

use common::*;
use std::process::Command;

#[test]
fn config_check_accepts_good_files_and_names_every_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        partner_config("mms.example.net", "oper", "mms.oper.com", 2626, ""),
    )
    .unwrap();
    let out = Command::new(mmsc_bin())
        .args(["config", "check"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[smtp]\nlisten = \"127.0.0.1:2525\"\nmax_recipients = 0\nmax_line_lenght = 100\n[[partners]]\nname = \"x\"\ndomain = \"mms.x.com\"\nsmtp_host = \"h:99999\"\n",
    )
    .unwrap();
    let out = Command::new(mmsc_bin())
        .args(["config", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for key in [
        "smtp.max_recipients",
        "smtp.max_line_lenght",
        "partners[0].smtp_host",
        "partners[0].allowed_networks",
    ] {
        assert!(err.contains(key), "{key} not named in:\n{err}");
    }

    let out = Command::new(mmsc_bin())
        .args(["config", "check"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn config_demo_prints_a_config_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(mmsc_bin())
        .args(["config", "demo"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let f = dir.path().join("demo.toml");
    std::fs::write(&f, &out.stdout).unwrap();
    let out = Command::new(mmsc_bin())
        .args(["config", "check"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn trace_of_an_unknown_id_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Mmsc::start(dir.path(), None);
    assert_eq!(m.terminate(), Some(0));
    let out = Command::new(mmsc_bin())
        .args(["trace", "nobody@nowhere", "--data-dir"])
        .arg(&m.data_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no message known"));
}
