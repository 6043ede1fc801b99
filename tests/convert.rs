//! `convert`: golden tests (Fabrickfile -> the expected spin.toml, for both
//! triggers), each output checked against a schema as strict as Spin's.

mod support;

use fabricks_builders::manifest;
use std::path::Path;

const CASES: &[&str] = &["flask", "everything", "nodejs", "wasm"];

/// The Fabrickfile of each case: the seed's Flask example itself, or a test app.
fn source_dir(case: &str) -> std::path::PathBuf {
    match case {
        "flask" => support::repo_path("examples/flask"),
        _ => support::repo_path(&format!("tests/convert/{case}")),
    }
}

fn convert(case: &str, trigger: &str) -> (String, String) {
    let dir = source_dir(case);
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = std::env::temp_dir().join(format!("fabricks-convert-{}-{n}-{case}-{trigger}.toml", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let output = support::run(&["convert", dir.to_str().unwrap(), "--trigger", trigger, "-o", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "convert {case} --trigger {trigger} failed:\n{stderr}");
    (std::fs::read_to_string(&out).unwrap(), stderr)
}

#[test]
fn every_case_converts_to_its_golden_manifest_for_both_triggers() {
    for case in CASES {
        for trigger in ["fabricks", "http"] {
            let (text, _) = convert(case, trigger);
            let golden_path = support::repo_path(&format!("tests/convert/{case}/spin.{trigger}.toml"));
            let golden = std::fs::read_to_string(&golden_path).unwrap();
            assert_eq!(text, golden, "{case} --trigger {trigger} differs from {}", golden_path.display());
            manifest::parse(Path::new(case), &text)
                .unwrap_or_else(|e| panic!("{case} --trigger {trigger}: Spin's schema refuses the output: {e:#}"));
        }
    }
}

#[test]
fn the_http_manifest_puts_nothing_but_route_and_component_under_the_http_trigger() {
    for case in CASES {
        let (text, _) = convert(case, "http");
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        for trigger in parsed["trigger"]["http"].as_array().unwrap() {
            let keys: Vec<&String> = trigger.as_table().unwrap().keys().collect();
            assert_eq!(keys, ["component", "route"], "{case}");
        }
        assert!(parsed["trigger"].get("fabricks").is_none(), "{case}");
    }
}

#[test]
fn what_cannot_be_carried_over_is_named_in_warnings() {
    let (_, stderr) = convert("everything", "fabricks");
    for key in ["[capabilities.filesystem] write", "[capabilities] env", "[source] include", "[build]"] {
        assert!(stderr.contains(&format!("{key}: ")), "no warning for {key}:\n{stderr}");
    }
    let (_, stderr) = convert("flask", "fabricks");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn an_existing_manifest_is_kept_unless_forced() {
    let dir = std::env::temp_dir().join(format!("fabricks-convert-keep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["Fabrickfile", "main.py", "requirements.txt"] {
        std::fs::copy(source_dir("flask").join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("spin.toml"), "# mine\n").unwrap();
    let refused = support::run(&["convert", dir.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(dir.join("spin.toml")).unwrap(), "# mine\n");

    let forced = support::run(&["convert", dir.to_str().unwrap(), "--force"]);
    assert!(forced.status.success());
    assert!(std::fs::read_to_string(dir.join("spin.toml")).unwrap().contains("[[trigger.fabricks]]"));
}

#[test]
fn the_schema_refuses_unknown_keys_exactly_where_spin_does() {
    let base = "spin_manifest_version = 2\n[application]\nname = \"a\"\n[component.a]\nsource = \"a.wasm\"\n";
    let ok = |extra: &str| manifest::parse(Path::new("spin.toml"), &format!("{base}{extra}"));
    // Accepted: custom trigger keys and sub-tables, tool tables.
    ok("[[trigger.fabricks]]\nroute = \"/...\"\ncomponent = \"a\"\nanything = 1\n[trigger.fabricks.python]\nframework = \"flask\"\n")
        .unwrap();
    ok("[component.a.tool.fabricks]\nx = 1\n[application.tool.fabricks]\ny = 2\n").unwrap();
    // Refused: unknown keys at the top, in [application], in [component.<id>],
    // and anything but Spin's keys under [[trigger.http]].
    assert!(ok("bogus = 1\n").is_err());
    assert!(manifest::parse(Path::new("spin.toml"), &base.replace("name = \"a\"", "name = \"a\"\nframework = \"x\"")).is_err());
    assert!(ok("[component.a.python]\nframework = \"flask\"\n").is_err());
    let http = ok("[[trigger.http]]\nroute = \"/...\"\ncomponent = \"a\"\nframework = \"flask\"\n").unwrap_err();
    assert!(format!("{http:#}").contains("\"framework\""), "{http:#}");
    ok("[[trigger.http]]\nroute = \"/...\"\ncomponent = \"a\"\nexecutor = { type = \"wagi\" }\n").unwrap();
}
