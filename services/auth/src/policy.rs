//! Who may call each method of `conoceles.auth.v1.AuthService`.

use conoceles_kit::access::{Policy, Role, Rule};

const SERVICE: &str = "conoceles.auth.v1.AuthService";

pub fn policy() -> Policy {
    // The fronts log people in and resolve their sessions; only the unit's admins, through the
    // capture front's back office, manage accounts. Tokens and keys are public routes: minting
    // checks the calling service's secret itself.
    let fronts = Rule::services(&["capture"]);
    let resolvers = Rule::services(&["capture", "publication", "statistics"]);
    let admins = Rule::acting_for(&["capture"], &[Role::Admin]);
    Policy::new().grpc_methods(
        SERVICE,
        &[
            ("Login", fronts),
            ("Logout", fronts),
            ("ChangePassword", fronts),
            ("ResolveSession", resolvers),
            ("CreateAccount", admins),
            ("LockAccount", admins),
            ("UnlockAccount", admins),
            ("ListAccounts", admins),
            ("ResetPassword", admins),
            ("ChangeRole", admins),
            ("ListGeneratedAccounts", admins),
            ("IssueCredentialSheet", admins),
            ("MarkCredentialsDelivered", admins),
            ("MintServiceToken", Rule::public()),
            ("GetVerificationKeys", Rule::public()),
        ],
    )
}
