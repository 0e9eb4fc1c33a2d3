//! The operators' commands of `conoceles-capture`: wrong arguments are refused by the parser,
//! clearly and before anything is loaded.

fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_conoceles-capture"))
        .args(args)
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap()
}

#[test]
fn seed_demo_refuses_an_unknown_process_and_a_malformed_grow() {
    let process = run(&["seed-demo", "--process=yucatan"]);
    assert_eq!(process.status.code(), Some(2));
    let stderr = String::from_utf8(process.stderr).unwrap();
    assert!(
        stderr.contains("unknown demo process \"yucatan\": coahuila or sonora"),
        "{stderr}"
    );

    let grow = run(&["seed-demo", "--grow=PVEM"]);
    assert_eq!(grow.status.code(), Some(2));
    let stderr = String::from_utf8(grow.stderr).unwrap();
    assert!(stderr.contains("expected POSTULANT:COUNT"), "{stderr}");

    let count = run(&["bench-import", "cien"]);
    assert_eq!(count.status.code(), Some(2));
    assert!(
        !String::from_utf8(count.stderr)
            .unwrap()
            .contains("panicked")
    );

    let help = run(&["seed-demo", "--help"]);
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("--without-submitting") && help.contains("--grow"),
        "{help}"
    );
}
