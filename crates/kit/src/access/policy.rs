//! Who may call what.

use std::collections::BTreeMap;

use super::role::{Caller, Role};

/// Who may call one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    public: bool,
    /// Calling services admitted (gRPC). Empty: no service restriction.
    services: &'static [&'static str],
    /// Roles of the person acted for. Empty: no person needed.
    roles: &'static [Role],
    /// People with one of these roles calling directly with their session (besides `services`).
    people: &'static [Role],
}

impl Rule {
    /// Anyone, without credentials.
    pub const fn public() -> Self {
        Self {
            public: true,
            services: &[],
            roles: &[],
            people: &[],
        }
    }

    /// The listed services, on their own behalf or anyone's.
    pub const fn services(services: &'static [&'static str]) -> Self {
        Self {
            public: false,
            services,
            roles: &[],
            people: &[],
        }
    }

    /// The listed services acting for a person with one of `roles`.
    pub const fn acting_for(services: &'static [&'static str], roles: &'static [Role]) -> Self {
        Self {
            public: false,
            services,
            roles,
            people: &[],
        }
    }

    /// People with one of `roles` (HTTP routes of a front, from their session).
    pub const fn people(roles: &'static [Role]) -> Self {
        Self {
            public: false,
            services: &[],
            roles,
            people: &[],
        }
    }

    /// This rule, and also people with one of `roles` calling with their own session (gRPC
    /// services that admit sessions: statisticians' scripts).
    pub const fn or_people(self, roles: &'static [Role]) -> Self {
        Self {
            people: roles,
            ..self
        }
    }

    pub fn is_public(&self) -> bool {
        self.public
    }

    pub fn admits(&self, caller: &Caller) -> bool {
        if self.public {
            return true;
        }
        if caller.service.is_none() && caller.actor.is_none() {
            return false;
        }
        if caller.service.is_none() && caller.role().is_some_and(|r| self.people.contains(&r)) {
            return true;
        }
        if !self.services.is_empty()
            && !caller
                .service
                .as_deref()
                .is_some_and(|s| self.services.contains(&s))
        {
            return false;
        }
        if !self.roles.is_empty() && !caller.role().is_some_and(|r| self.roles.contains(&r)) {
            return false;
        }
        if self.services.is_empty() && self.roles.is_empty() {
            return false; // a rule must admit someone explicitly
        }
        true
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No (valid) credentials.
    Unauthenticated,
    /// Credentials, but not admitted here (or the route has no rule).
    Forbidden,
}

/// Every route of a service and its rule. Keys: gRPC paths (`/conoceles.auth.v1.AuthService/Login`)
/// or `METHOD /path` for HTTP routes (`GET /ingresar`, with axum's `{param}` syntax).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: BTreeMap<String, Rule>,
}

impl Policy {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn route(mut self, key: impl Into<String>, rule: Rule) -> Self {
        let key = key.into();
        assert!(
            self.rules.insert(key.clone(), rule).is_none(),
            "route {key} declared twice"
        );
        self
    }

    /// Declares every method of a gRPC service with the same rule, by short name.
    pub fn grpc_methods(mut self, service: &str, methods: &[(&str, Rule)]) -> Self {
        for (method, rule) in methods {
            self = self.route(format!("/{service}/{method}"), *rule);
        }
        self
    }

    pub fn rule(&self, key: &str) -> Option<&Rule> {
        self.rules.get(key)
    }

    /// The HTTP methods declared for `path` (axum's `{param}` syntax), in order.
    pub fn methods_of(&self, path: &str) -> Vec<&str> {
        self.rules
            .keys()
            .filter_map(|key| key.split_once(' '))
            .filter(|(_, p)| *p == path)
            .map(|(method, _)| method)
            .collect()
    }

    pub fn routes(&self) -> impl Iterator<Item = (&str, &Rule)> {
        self.rules.iter().map(|(k, r)| (k.as_str(), r))
    }

    /// The decision for `caller` on `key`; an undeclared route is refused.
    pub fn decide(&self, key: &str, caller: &Caller) -> Result<(), Denied> {
        match self.rules.get(key) {
            Some(rule) if rule.admits(caller) => Ok(()),
            Some(_) | None if caller.service.is_none() && caller.actor.is_none() => {
                Err(Denied::Unauthenticated)
            }
            _ => Err(Denied::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Actor;

    fn caller(service: Option<&str>, role: Option<Role>) -> Caller {
        Caller {
            service: service.map(String::from),
            actor: role.map(|role| Actor {
                account_id: uuid::Uuid::nil(),
                role,
                party_id: None,
                candidacy_id: None,
            }),
        }
    }

    #[test]
    fn rules_admit_exactly_what_they_declare() {
        let policy = Policy::new()
            .route("/p", Rule::public())
            .route("/s", Rule::services(&["capture"]))
            .route("/a", Rule::acting_for(&["capture"], &[Role::Admin]))
            .route("GET /x", Rule::people(&[Role::Party, Role::Candidate]));
        assert_eq!(policy.decide("/p", &Caller::ANONYMOUS), Ok(()));
        assert_eq!(
            policy.decide("/s", &Caller::ANONYMOUS),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(policy.decide("/s", &caller(Some("capture"), None)), Ok(()));
        assert_eq!(
            policy.decide("/s", &caller(Some("publication"), None)),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            policy.decide("/a", &caller(Some("capture"), Some(Role::Reviewer))),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            policy.decide("/a", &caller(Some("capture"), Some(Role::Admin))),
            Ok(())
        );
        assert_eq!(
            policy.decide("GET /x", &caller(None, Some(Role::Party))),
            Ok(())
        );
        assert_eq!(
            policy.decide("GET /x", &caller(None, Some(Role::Admin))),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            policy.decide("/undeclared", &caller(Some("capture"), Some(Role::Admin))),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn or_people_adds_people_with_their_own_session_and_nobody_else() {
        let policy = Policy::new().route(
            "/t",
            Rule::services(&["publication"]).or_people(&[Role::Statistician]),
        );
        assert_eq!(
            policy.decide("/t", &caller(Some("publication"), None)),
            Ok(())
        );
        assert_eq!(
            policy.decide("/t", &caller(None, Some(Role::Statistician))),
            Ok(())
        );
        assert_eq!(
            policy.decide("/t", &caller(None, Some(Role::Party))),
            Err(Denied::Forbidden)
        );
        // Another service acting for a statistician is not the statistician's own session.
        assert_eq!(
            policy.decide("/t", &caller(Some("capture"), Some(Role::Statistician))),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            policy.decide("/t", &Caller::ANONYMOUS),
            Err(Denied::Unauthenticated)
        );
    }
}
