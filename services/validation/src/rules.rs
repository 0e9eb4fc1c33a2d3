//! The automatic rules of the Lineamientos (DESIGN §6) over a submitted curricular
//! questionnaire: each section present and within the election's rules, the photo present and
//! recent, the identity questionnaire sent. One finding per section, with its reason in Spanish.

use std::collections::HashSet;

use chrono::{DateTime, Months, NaiveDate, Utc};
use conoceles_curricular::{Bounds, Fields, Section, validate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The section's name (`general`, …, `photo`, `identity`); prefixed with `alternate.` for
    /// the alternate's questionnaire.
    pub section: String,
    pub passed: bool,
    pub reason: String,
}

fn finding(prefix: &str, section: &str, problems: Vec<String>) -> Finding {
    Finding {
        section: format!("{prefix}{section}"),
        passed: problems.is_empty(),
        reason: if problems.is_empty() {
            "Cumple.".into()
        } else {
            problems.join(" ")
        },
    }
}

/// Runs every rule on `content` (the canonical JSON of the submission).
pub fn check(
    content: &Value,
    bounds: &Bounds,
    submitted_at: DateTime<Utc>,
    identity_sent: &HashSet<Uuid>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let persons = content["persons"].as_array().cloned().unwrap_or_default();
    if persons.is_empty() {
        findings.push(finding(
            "",
            "general",
            vec!["El envío no contiene ningún cuestionario.".into()],
        ));
    }
    for person in persons {
        let role = person["role"].as_str().unwrap_or("holder");
        let prefix = if role == "alternate" {
            "alternate."
        } else {
            ""
        };
        for section in Section::ALL {
            let problems = match person["sections"].get(section.slug()) {
                None => vec![format!("Falta la sección «{}».", section.title())],
                Some(fields) => {
                    let fields: Fields = serde_json::from_value(fields.clone()).unwrap_or_default();
                    validate(section, bounds, &fields)
                        .1
                        .into_iter()
                        .map(|v| v.message)
                        .collect()
                }
            };
            findings.push(finding(prefix, section.slug(), problems));
        }
        let oldest = submitted_at.date_naive().checked_sub_months(Months::new(3));
        let photo = &person["photo"];
        let problems = if photo.is_null() {
            vec!["Falta la fotografía.".to_string()]
        } else {
            let taken = photo["taken_on"]
                .as_str()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            match (taken, oldest) {
                (Some(t), Some(o)) if t >= o && t <= submitted_at.date_naive() => Vec::new(),
                _ => vec![
                    "La fotografía debe tener como máximo tres meses al momento del envío.".into(),
                ],
            }
        };
        findings.push(finding(prefix, "photo", problems));
        let person_id = person["person_id"]
            .as_str()
            .and_then(|p| Uuid::parse_str(p).ok());
        let problems = if person_id.is_some_and(|p| identity_sent.contains(&p)) {
            Vec::new()
        } else {
            vec!["La persona no ha enviado su cuestionario de identidad.".to_string()]
        };
        findings.push(finding(prefix, "identity", problems));
    }
    findings
}

/// Whether the findings allow an approval: every rule passes (the identity questionnaire is
/// reported, not required, for the curricular approval).
pub fn approvable(findings: &[Finding]) -> bool {
    findings
        .iter()
        .all(|f| f.passed || f.section.ends_with("identity"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn long() -> String {
        vec!["palabra"; 60].join(" ")
    }

    fn content(photo_taken: &str, phone: &str) -> Value {
        json!({
            "persons": [{
                "person_id": "0196c0a4-7000-7000-8000-000000000001",
                "role": "holder",
                "sections": {
                    "general": {"private_email": "a@ejemplo.mx", "phone_1": phone},
                    "education": {"level": "licenciatura", "status": "titulado"},
                    "professional": {"history": long()},
                    "political": {"trajectory": long()},
                    "motivation": {"reason": long()},
                    "proposals": {"proposal_1": long(), "proposal_2": long()},
                    "gender": {"proposal": long(), "target_population": "Mujeres"}
                },
                "photo": {"sha256": "ab", "taken_on": photo_taken}
            }]
        })
    }

    fn at() -> DateTime<Utc> {
        "2026-05-20T12:00:00Z".parse().unwrap()
    }

    fn sent() -> HashSet<Uuid> {
        HashSet::from([Uuid::parse_str("0196c0a4-7000-7000-8000-000000000001").unwrap()])
    }

    #[test]
    fn a_complete_submission_passes_every_rule() {
        let f = check(
            &content("2026-05-01", "8441234567"),
            &Bounds::default(),
            at(),
            &sent(),
        );
        assert_eq!(f.len(), 9);
        assert!(f.iter().all(|f| f.passed), "{f:?}");
        assert!(approvable(&f));
    }

    #[test]
    fn each_rule_fails_with_its_reason() {
        let f = check(
            &content("2026-01-01", "12"),
            &Bounds::default(),
            at(),
            &HashSet::new(),
        );
        let failed: Vec<&str> = f
            .iter()
            .filter(|f| !f.passed)
            .map(|f| f.section.as_str())
            .collect();
        assert_eq!(failed, ["general", "photo", "identity"]);
        assert!(f[0].reason.contains("10 dígitos"));
        assert!(!approvable(&f));

        let mut missing = content("2026-05-01", "8441234567");
        missing["persons"][0]["sections"]
            .as_object_mut()
            .unwrap()
            .remove("proposals");
        missing["persons"][0]["photo"] = Value::Null;
        let f = check(&missing, &Bounds::default(), at(), &sent());
        let proposals = f.iter().find(|f| f.section == "proposals").unwrap();
        assert!(!proposals.passed && proposals.reason.contains("Falta la sección «Propuestas»"));
        assert!(!f.iter().find(|f| f.section == "photo").unwrap().passed);
    }

    #[test]
    fn lengths_follow_the_election_bounds() {
        let strict = Bounds {
            text_min: 600,
            ..Bounds::default()
        };
        let f = check(&content("2026-05-01", "8441234567"), &strict, at(), &sent());
        let professional = f.iter().find(|f| f.section == "professional").unwrap();
        assert!(!professional.passed && professional.reason.contains("al menos 600"));
    }

    #[test]
    fn a_missing_identity_questionnaire_is_reported_but_does_not_block_approval() {
        let f = check(
            &content("2026-05-01", "8441234567"),
            &Bounds::default(),
            at(),
            &HashSet::new(),
        );
        assert!(!f.iter().find(|f| f.section == "identity").unwrap().passed);
        assert!(approvable(&f));
    }
}
