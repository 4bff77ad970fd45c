//! template.yaml with target names: a state machine ticks each target in its
//! own invocation, and the function's own schedules stand down.

/// The lines of the top-level resource `name` of template.yaml.
fn resource<'a>(template: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("  {name}:");
    template
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("   "))
        .collect()
}

#[test]
fn the_sam_state_machine_ticks_each_of_the_target_names() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"))
        .expect("template.yaml is read");
    assert!(template.contains("\n  TargetNames:\n    Type: String\n    Default: \"\"\n"));
    assert!(template.contains("  HasTargetNames: !Not [!Equals [!Ref TargetNames, \"\"]]\n"));
    let machine = resource(&template, "TargetsStateMachine").join("\n");
    for needle in [
        "Type: AWS::Serverless::StateMachine",
        "Condition: HasTargetNames",
        // The Map's items are the TargetNames parameter, split at commas.
        "TargetNames: !Ref TargetNames",
        "targets.$: States.StringSplit('${TargetNames}', ',')",
        "Type: Map",
        "ItemsPath: $.targets",
        "target.$: $$.Map.Item.Value",
        "MaxConcurrencyPath: $.max_concurrency",
        // Each item invokes the function with a tick of that one target.
        "Resource: arn:aws:states:::lambda:invoke",
        "FunctionName: ${WardenFunctionArn}",
        "warden: tick",
        "targets.$: States.Array($.target)",
        "Retry:",
        "Catch:",
        // A Distributed Map: no limit of 40 parallel iterations; each
        // target's bounded summary stays in its child execution.
        "Mode: DISTRIBUTED",
        "answer: summary",
        "ResultPath: null",
        "Schedule: rate(5 minutes)",
        "Schedule: rate(1 hour)",
    ] {
        assert!(
            machine.contains(needle),
            "the state machine lacks {needle:?}"
        );
    }
    // With TargetNames, the function's own schedules stand down.
    let function = resource(&template, "WardenFunction").join("\n");
    assert_eq!(
        function
            .matches("State: !If [HasTargetNames, DISABLED, ENABLED]")
            .count(),
        2
    );
    assert!(function.contains("WARDEN_TARGETS: !If [HasTargets, !Ref Targets, !Ref AWS::NoValue]"));
}
