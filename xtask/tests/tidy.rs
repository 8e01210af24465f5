//! Runs the tidy checks as tests, so `cargo test` enforces the architecture and the house style.

#[test]
fn dependencies_follow_architecture_md() {
    let problems = xtask::check_dependencies().unwrap();
    assert!(problems.is_empty(), "dependency rules broken:\n{}", problems.join("\n"));
}

#[test]
fn sources_follow_the_house_style() {
    let problems = xtask::check_sources().unwrap();
    assert!(problems.is_empty(), "house style broken:\n{}", problems.join("\n"));
}

/// The check itself must be able to fail: a forbidden edge is reported.
#[test]
fn a_forbidden_edge_is_detected() {
    let rules = xtask::allowed_edges(
        "### otwatch-model\n**May depend on:** nothing in the workspace.\n### otwatch-store\n**May depend on:** nothing in the workspace.\n",
    )
    .unwrap();
    let pkgs: Vec<_> = xtask::packages()
        .unwrap()
        .into_iter()
        .filter(|p| p.name == "otwatch-store" || p.name == "otwatch-cli")
        .collect();
    let problems = xtask::check_edges(&rules, &pkgs);
    assert!(
        problems.contains(
            &"otwatch-store depends on otwatch-model, which ARCHITECTURE.md does not allow"
                .to_string()
        ),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.starts_with("otwatch-cli: no entry")), "{problems:?}");
}
