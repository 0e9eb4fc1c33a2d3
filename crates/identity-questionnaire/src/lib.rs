//! The identity questionnaire as data: a versioned definition (questions, types, options, conditions) and
//! the rules answers must follow. Every question also accepts "Prefiero no contestar".
//! Messages never repeat an answer: they name the question only.

use std::collections::{BTreeMap, HashSet};

use conoceles_kit::FieldViolation;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Single,
    Multiple,
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub question: String,
    pub option: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// A catalog the options come from (`states`), expanded when loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<usize>,
    /// Asked only when another question has this answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub questions: Vec<Question>,
}

/// One answer as stored (encrypted) and exchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub free_text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub declined: bool,
}

const STATES: &str = include_str!("../../../catalogs/estados.csv");

/// The dimensions the identity aggregate tables cross each question with.
pub const AGGREGATE_DIMENSIONS: [&str; 6] = [
    "sex",
    "office",
    "principle",
    "postulant",
    "constituency",
    "age_band",
];

impl Definition {
    /// The predeclared aggregate tables: `identity.<question>.by_<dimension>` for every
    /// single-choice question (free text is never tabulated).
    pub fn aggregate_tables(&self) -> Vec<String> {
        self.questions
            .iter()
            .filter(|q| q.kind == Kind::Single)
            .flat_map(|q| {
                AGGREGATE_DIMENSIONS
                    .iter()
                    .map(move |d| format!("identity.{}.by_{d}", q.id))
            })
            .collect()
    }

    /// The default: the INE topics of DESIGN §6, with the states of Mexico for birth state.
    pub fn default_topics() -> Self {
        let mut d: Definition = serde_json::from_str(include_str!("../definitions/default.json"))
            .expect("the default definition is valid JSON");
        d.expand();
        d.check().expect("the default definition is consistent");
        d
    }

    /// Parses and checks a definition an electoral body wrote.
    pub fn parse(json: &str) -> Result<Self, String> {
        let mut d: Definition = serde_json::from_str(json)
            .map_err(|e| format!("La definición no es JSON válido: {e}"))?;
        d.expand();
        d.check()?;
        Ok(d)
    }

    fn expand(&mut self) {
        for q in &mut self.questions {
            if q.options_from.as_deref() == Some("states") && q.options.is_empty() {
                q.options = STATES
                    .lines()
                    .skip(1)
                    .filter_map(|l| {
                        let mut parts = l.split(',');
                        Some(Choice {
                            id: parts.next()?.to_string(),
                            label: parts.next()?.to_string(),
                        })
                    })
                    .collect();
            }
        }
    }

    /// Ids unique, choices with options, conditions on an earlier single-choice question.
    pub fn check(&self) -> Result<(), String> {
        let mut seen: BTreeMap<&str, &Question> = BTreeMap::new();
        for q in &self.questions {
            if q.id.is_empty() || !q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("Identificador de pregunta inválido: «{}».", q.id));
            }
            if seen.contains_key(q.id.as_str()) {
                return Err(format!("Pregunta repetida: «{}».", q.id));
            }
            match q.kind {
                Kind::Single | Kind::Multiple if q.options.is_empty() => {
                    return Err(format!("La pregunta «{}» no tiene opciones.", q.id));
                }
                Kind::Text if q.max_chars.unwrap_or(0) == 0 => {
                    return Err(format!("La pregunta «{}» necesita max_chars.", q.id));
                }
                _ => {}
            }
            let mut ids = HashSet::new();
            if !q.options.iter().all(|o| ids.insert(o.id.as_str())) {
                return Err(format!("La pregunta «{}» repite una opción.", q.id));
            }
            if let Some(c) = &q.when {
                let valid = seen.get(c.question.as_str()).is_some_and(|p| {
                    p.kind == Kind::Single && p.options.iter().any(|o| o.id == c.option)
                });
                if !valid {
                    return Err(format!(
                        "La condición de «{}» debe referirse a una opción de una pregunta anterior de opción única.",
                        q.id
                    ));
                }
            }
            seen.insert(&q.id, q);
        }
        Ok(())
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Whether a question is asked, given the other answers.
    fn applies(&self, q: &Question, answers: &BTreeMap<String, StoredAnswer>) -> bool {
        match &q.when {
            None => true,
            Some(c) => answers
                .get(&c.question)
                .is_some_and(|a| !a.declined && a.option_ids.contains(&c.option)),
        }
    }

    /// Checks a complete set of answers: every question asked is answered or declined; answers
    /// to questions not asked are dropped. Returns the answers to store.
    pub fn validate(
        &self,
        input: BTreeMap<String, StoredAnswer>,
    ) -> Result<BTreeMap<String, StoredAnswer>, Vec<FieldViolation>> {
        let mut problems = Vec::new();
        for id in input.keys() {
            if self.question(id).is_none() {
                problems.push(FieldViolation::new(id, "unknown", "Pregunta desconocida."));
            }
        }
        let mut kept = BTreeMap::new();
        for q in &self.questions {
            let Some(answer) = input.get(&q.id) else {
                if self.applies(q, &kept) {
                    problems.push(FieldViolation::new(
                        &q.id,
                        "required",
                        format!("«{}»: responda o elija «Prefiero no contestar».", q.text),
                    ));
                }
                continue;
            };
            if !self.applies(q, &kept) {
                continue;
            }
            if answer.declined {
                kept.insert(
                    q.id.clone(),
                    StoredAnswer {
                        declined: true,
                        ..StoredAnswer::default()
                    },
                );
                continue;
            }
            let valid = match q.kind {
                Kind::Single => {
                    answer.option_ids.len() == 1
                        && q.options.iter().any(|o| o.id == answer.option_ids[0])
                        && answer.free_text.is_empty()
                }
                Kind::Multiple => {
                    let distinct: HashSet<&String> = answer.option_ids.iter().collect();
                    !answer.option_ids.is_empty()
                        && distinct.len() == answer.option_ids.len()
                        && answer
                            .option_ids
                            .iter()
                            .all(|id| q.options.iter().any(|o| o.id == *id))
                        && answer.free_text.is_empty()
                }
                Kind::Text => {
                    let text = answer.free_text.trim();
                    !text.is_empty()
                        && text.chars().count() <= q.max_chars.unwrap_or(0)
                        && !text.chars().any(char::is_control)
                        && answer.option_ids.is_empty()
                }
            };
            if valid {
                let mut clean = answer.clone();
                clean.free_text = clean.free_text.trim().to_string();
                kept.insert(q.id.clone(), clean);
            } else {
                let message = match q.kind {
                    Kind::Single => format!("«{}»: elija una opción de la lista.", q.text),
                    Kind::Multiple => {
                        format!("«{}»: elija una o más opciones de la lista.", q.text)
                    }
                    Kind::Text => format!(
                        "«{}»: escriba hasta {} caracteres, sin saltos de línea.",
                        q.text,
                        q.max_chars.unwrap_or(0)
                    ),
                };
                problems.push(FieldViolation::new(&q.id, "invalid", message));
            }
        }
        if problems.is_empty() {
            Ok(kept)
        } else {
            Err(problems)
        }
    }
}

/// Who reads an answer: the person who gave it (the verification screen, in the first person) or
/// the public (a published answer, in the third).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Answerer,
    Public,
}

impl Question {
    /// The answer as people read it: the chosen options' labels, the text written, or that the
    /// person preferred not to answer, in the reader's voice.
    pub fn answer_text(&self, answer: &StoredAnswer, reader: Reader) -> String {
        if answer.declined {
            return match reader {
                Reader::Answerer => "Prefiero no contestar",
                Reader::Public => "Prefirió no contestar",
            }
            .into();
        }
        if self.kind == Kind::Text {
            return answer.free_text.clone();
        }
        self.options
            .iter()
            .filter(|o| answer.option_ids.contains(&o.id))
            .map(|o| o.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Definition {
    /// The answered questions in the definition's order, as (question, answer) texts.
    pub fn shown(
        &self,
        answers: &BTreeMap<String, StoredAnswer>,
        reader: Reader,
    ) -> Vec<(String, String)> {
        self.questions
            .iter()
            .filter_map(|q| {
                let answer = answers.get(&q.id)?;
                Some((q.text.clone(), q.answer_text(answer, reader)))
            })
            .collect()
    }
}

/// Answers as `identity`'s gRPC messages carry them, and back: the one conversion each way.
pub mod wire {
    use std::collections::BTreeMap;

    use conoceles_proto::identity::v1::Answer;

    use super::StoredAnswer;

    pub fn to_proto(answers: BTreeMap<String, StoredAnswer>) -> Vec<Answer> {
        answers
            .into_iter()
            .map(|(question_id, a)| Answer {
                question_id,
                option_ids: a.option_ids,
                free_text: a.free_text,
                declined: a.declined,
            })
            .collect()
    }

    pub fn from_proto(list: Vec<Answer>) -> BTreeMap<String, StoredAnswer> {
        list.into_iter()
            .map(|a| {
                (
                    a.question_id,
                    StoredAnswer {
                        option_ids: a.option_ids,
                        free_text: a.free_text,
                        declined: a.declined,
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(id: &str) -> StoredAnswer {
        StoredAnswer {
            option_ids: vec![id.into()],
            ..StoredAnswer::default()
        }
    }

    fn declined() -> StoredAnswer {
        StoredAnswer {
            declined: true,
            ..StoredAnswer::default()
        }
    }

    /// Every top-level question declined.
    fn all_declined(d: &Definition) -> BTreeMap<String, StoredAnswer> {
        d.questions
            .iter()
            .filter(|q| q.when.is_none())
            .map(|q| (q.id.clone(), declined()))
            .collect()
    }

    #[test]
    fn the_default_covers_the_ine_topics_with_the_states() {
        let d = Definition::default_topics();
        for id in [
            "indigenous",
            "disability",
            "afro_mexican",
            "sexual_diversity",
            "migrant",
            "age_group",
            "income",
            "birth_state",
        ] {
            assert!(d.question(id).is_some(), "{id}");
        }
        assert_eq!(d.question("birth_state").unwrap().options.len(), 32);
    }

    #[test]
    fn declining_everything_is_a_complete_answer() {
        let d = Definition::default_topics();
        assert!(d.validate(all_declined(&d)).is_ok());
    }

    #[test]
    fn follow_up_questions_are_asked_only_when_they_apply() {
        let d = Definition::default_topics();
        let mut answers = all_declined(&d);
        answers.insert("migrant".into(), single("yes"));
        let problems = d.validate(answers.clone()).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["migrant_country", "migrant_years", "migrant_reason"]
        );
        answers.insert(
            "migrant_country".into(),
            StoredAnswer {
                free_text: "Canadá".into(),
                ..Default::default()
            },
        );
        answers.insert("migrant_years".into(), single("1_5"));
        answers.insert("migrant_reason".into(), declined());
        // An answer to a question not asked is dropped.
        answers.insert(
            "indigenous_language".into(),
            StoredAnswer {
                free_text: "náhuatl".into(),
                ..Default::default()
            },
        );
        let kept = d.validate(answers).unwrap();
        assert_eq!(kept["migrant_country"].free_text, "Canadá");
        assert!(!kept.contains_key("indigenous_language"));
    }

    #[test]
    fn invalid_answers_are_named_without_repeating_them() {
        let d = Definition::default_topics();
        let mut answers = all_declined(&d);
        answers.insert("income".into(), single("secret-marker"));
        answers.insert("bogus".into(), declined());
        let problems = d.validate(answers).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(
            problems
                .iter()
                .all(|p| !p.message.contains("secret-marker"))
        );
    }

    #[test]
    fn broken_definitions_are_refused() {
        assert!(
            Definition::parse(
                r#"{"title":"x","questions":[{"id":"a","text":"A","type":"single"}]}"#
            )
            .is_err()
        );
        let bad_condition = r#"{"title":"x","questions":[
            {"id":"b","text":"B","type":"text","max_chars":10,"when":{"question":"a","option":"yes"}},
            {"id":"a","text":"A","type":"single","options":[{"id":"yes","label":"Sí"}]}]}"#;
        assert!(Definition::parse(bad_condition).is_err());
    }

    #[test]
    fn answers_read_in_the_readers_voice_and_cross_the_wire_unchanged() {
        let definition = Definition::default_topics();
        let mut answers = BTreeMap::new();
        let first = &definition.questions[0];
        answers.insert(
            first.id.clone(),
            StoredAnswer {
                declined: true,
                ..StoredAnswer::default()
            },
        );
        assert_eq!(
            definition.shown(&answers, Reader::Answerer),
            vec![(first.text.clone(), "Prefiero no contestar".to_string())]
        );
        assert_eq!(
            definition.shown(&answers, Reader::Public)[0].1,
            "Prefirió no contestar"
        );
        let chosen = first.options.first().cloned();
        if let Some(option) = chosen {
            let picked = StoredAnswer {
                option_ids: vec![option.id.clone()],
                ..StoredAnswer::default()
            };
            assert_eq!(first.answer_text(&picked, Reader::Public), option.label);
        }
        assert_eq!(wire::from_proto(wire::to_proto(answers.clone())), answers);
    }
}
