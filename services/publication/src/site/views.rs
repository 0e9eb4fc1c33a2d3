//! Page models of the citizens' site (askama templates in `templates/`).

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::{StatusCode, header};

use crate::model::{Filters, Listed};

/// Renders a page model, cacheable for 30 seconds; a template error is an internal error.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [(header::CACHE_CONTROL, "public, max-age=30")],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The message page: a title and one paragraph.
pub fn message(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &MessagePage {
            title: title.into(),
            message: message.into(),
        },
    )
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub election: String,
    pub constituencies: Vec<(String, String)>,
    pub total: i64,
    /// The election has ayuntamiento slates published.
    pub municipal: bool,
    /// The election's sección catalog is loaded («¿Dónde voto?» can answer).
    pub sections: bool,
}

pub struct Card {
    pub item: Listed,
    /// A registered candidacy without a published version: its state («En revisión»…).
    pub state: Option<&'static str>,
    /// The alternate's name, as registered.
    pub alternate: Option<String>,
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
    pub election: String,
    pub filters: Filters,
    pub offices: Vec<(String, String)>,
    pub postulants: Vec<(String, String)>,
    pub constituencies: Vec<(String, String)>,
    /// (code, «Mujer (12)»): the sex and schooling choices with their counts.
    pub sexes: Vec<(String, String)>,
    pub education: Vec<(String, String)>,
    /// How many filters (besides the name) are set: the panel opens with them.
    pub active_filters: usize,
    pub cards: Vec<Card>,
    /// Candidacies of the contests shown whose person is being substituted: (URL id, contest).
    pub substitutions: Vec<(String, String)>,
    pub total: i64,
    pub page: u32,
    pub pages: u32,
    /// The query string without the page, for the pagination links.
    pub query: String,
    /// Municipalities whose name holds the searched text: where their contests are.
    pub municipalities: Vec<crate::places::Place>,
    /// Of `total`, how many have no published version yet (listed with their state).
    pub unpublished: i64,
    /// Registered candidacies without a published version that did not fit among the cards
    /// (a list of several pages): shown apart, on its first page.
    pub apart: Vec<Card>,
    /// When the page holds one contest: the comparison of all of it.
    pub whole_contest: Option<String>,
}

#[derive(Template)]
#[template(path = "registro.html")]
pub struct RegistryPage {
    pub item: Listed,
    pub holder_role: &'static str,
    pub alternate_name: String,
    pub state: &'static str,
    pub explanation: &'static str,
    pub report: Option<String>,
}

/// A labelled value of a profile: (label, value, whether the value is a link).
/// (label, text, where the text links to: an https address, or a published document).
pub type Shown = (String, String, Option<String>);

pub struct ShownPerson {
    pub role_label: &'static str,
    pub full_name: String,
    pub age: i64,
    pub photo: Option<String>,
    /// (section title, [(label, value, is_link)])
    pub sections: Vec<(String, Vec<Shown>)>,
    /// The person's identity answers that the person consented to publish.
    pub identity: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub item: Listed,
    pub persons: Vec<ShownPerson>,
    pub corrected: Option<String>,
    pub sha256: String,
    /// When the version shown was approved (its correction, if any), in the election's time.
    pub updated: String,
    /// The alternate as the registry names them, when only the holder answers.
    pub alternate: Option<String>,
    /// schema.org `Person` of the holder, as JSON-LD (already safe inside a script element).
    pub json_ld: String,
    /// A `mailto:` to report an error in this candidacy's information (None: no address set).
    pub report: Option<String>,
    /// The page's and the holder's photo's absolute addresses, for Open Graph.
    pub url: String,
    pub image: Option<String>,
}

/// The former URL of a candidacy being substituted or cancelled.
#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub title: String,
    pub contest: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage {
    pub contest: String,
    pub columns: Vec<ProfileColumn>,
    /// Rows: (label, one value per column)
    pub rows: Vec<(String, Vec<String>)>,
}

/// Candidacies of different contests were chosen: each contest's with a link to compare them.
#[derive(Template)]
#[template(path = "compare_mixed.html")]
pub struct CompareMixedPage {
    /// (contest, [(id, holder)])
    pub groups: Vec<(String, Vec<(String, String)>)>,
}

pub struct ProfileColumn {
    pub id: String,
    pub name: String,
    pub postulant: String,
    pub photo: Option<String>,
}

#[derive(Template)]
#[template(path = "data.html")]
pub struct DataPage {
    pub election: String,
    pub total: usize,
    pub columns: Vec<(&'static str, &'static str)>,
    /// Where the release's files are: `/datos/version/{n}` (or `/datos` before the first).
    pub files: String,
}

/// One bar of a chart (SVG units, 600 wide: the label above, the bar up to 480 below it).
pub struct Bar {
    pub label: String,
    pub value: u64,
    pub width: u32,
    pub y: u32,
    pub text_y: u32,
}

pub struct ProgressLine {
    pub postulant: String,
    pub total: u64,
    pub not_started: u64,
    pub draft: u64,
    pub submitted: u64,
    pub observed: u64,
    pub approved: u64,
}

pub struct GroupTable {
    pub chart_id: String,
    /// «La discapacidad es, por sexo» (the question without its closing colon).
    pub caption: String,
    pub question: String,
    /// «Personas consideradas: 14 · respondieron: 12 · prefirieron no contestar: 2.», absent
    /// when the table is suppressed whole.
    pub counts: Option<String>,
    /// Option label and its counts for mujer, hombre, no binario and total ("suprimido" where hidden).
    pub rows: Vec<(String, Vec<String>)>,
    pub bars: Vec<Bar>,
    /// Published, but every count is zero: the page says so instead of an empty chart.
    pub empty: bool,
    /// Answered, but every answer's total is suppressed: the table shows «suprimido», the page
    /// says why, and there is no chart to draw.
    pub all_suppressed: bool,
    /// Under differential privacy, some group was released by the root question only.
    pub coarsened: bool,
}

/// The privacy-loss ledger, shown when the election protects its identity tables with
/// differential privacy.
pub struct PrivacyView {
    pub budget: String,
    pub remaining: String,
    pub delta: String,
    pub releases: Vec<PrivacyRelease>,
}

pub struct PrivacyRelease {
    pub sequence: u32,
    pub released_at: String,
    pub cut_off: String,
    pub rho: String,
    pub rho_total: String,
    pub epsilon: String,
    pub scale: String,
}

#[derive(Template)]
#[template(path = "statistics.html")]
pub struct StatisticsPage {
    pub election: String,
    pub cut_off: String,
    pub lines: Vec<ProgressLine>,
    pub progress_bars: Vec<Bar>,
    pub groups: Vec<GroupTable>,
    /// Parity, age, schooling and affirmative action of the candidacies.
    pub figures: Vec<Figure>,
    /// Differential privacy: the ledger (absent under cell suppression).
    pub privacy: Option<PrivacyView>,
}

/// A chart with the table under it, or the sentence that says why it is empty.
pub struct Figure {
    pub id: String,
    pub title: String,
    pub note: String,
    pub bars: Vec<Bar>,
    /// The table's column headers after the first (the rows' own).
    pub header: Vec<String>,
    pub first_header: String,
    pub rows: Vec<(String, Vec<String>)>,
    /// Shown instead of the chart and table when there is nothing to count yet.
    pub empty: Option<String>,
}

#[derive(Template)]
#[template(path = "ayuntamientos.html")]
pub struct AyuntamientosPage {
    pub election: String,
    /// (code, name, slates published).
    pub municipalities: Vec<(String, String, i64)>,
}

#[derive(Template)]
#[template(path = "ayuntamiento.html")]
pub struct AyuntamientoPage {
    pub election: String,
    pub municipality: String,
    pub code: String,
    /// Each postulant's slate, in the neutral order.
    pub slates: Vec<SlateView>,
    /// Each party's list of RP regidurías.
    pub lists: Vec<SlateView>,
    /// Positions being substituted (their contest, never a name).
    pub substitutions: Vec<String>,
}

pub struct SlateView {
    pub postulant: String,
    pub positions: Vec<SlatePosition>,
}

pub struct SlatePosition {
    /// Its place on the ballot: (presidencia 0, sindicatura 1, regiduría 2; number).
    pub order: (u8, i32),
    /// «Sindicatura 1».
    pub label: String,
    pub id: String,
    pub holder: String,
    /// Empty when published; otherwise the registered candidacy's state («En revisión»…).
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "ayuntamiento_comparar.html")]
pub struct SlateComparePage {
    pub election: String,
    pub municipality: String,
    pub code: String,
    pub postulants: Vec<String>,
    /// (position, per postulant: the candidacy and its holder, or nothing published).
    pub rows: Vec<(String, Vec<Option<SlateCell>>)>,
}

/// A published position in the comparison: (candidacy id, holder's name).
pub type SlateCell = (String, String);

#[derive(Template)]
#[template(path = "donde_voto.html")]
pub struct WherePage {
    pub election: String,
    pub municipalities: Vec<crate::places::Place>,
    /// What the person typed as their sección, shown again with the error.
    pub typed: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "municipio.html")]
pub struct MunicipalityPage {
    pub election: String,
    pub municipality: crate::places::Place,
    pub districts: Vec<crate::places::DistrictPart>,
    /// Offices elected by district and by the state's lists.
    pub district_offices: Vec<crate::places::Office>,
    pub list_offices: Vec<crate::places::Office>,
    /// The election has ayuntamiento slates.
    pub ayuntamiento: bool,
}

/// One contest of a ballot: its title, what is voted, its groups (one unnamed group of
/// candidacies, or one per slate or list), and where to see more.
pub struct ContestView {
    pub title: String,
    pub note: String,
    /// What the page says when nothing of the contest is published yet.
    pub empty: String,
    pub groups: Vec<SlateView>,
    pub links: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "boleta.html")]
pub struct BallotPage {
    pub election: String,
    pub section: crate::places::SectionPlace,
    pub contests: Vec<ContestView>,
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    fn group(
        question: &str,
        rows: Vec<(String, Vec<String>)>,
        empty: bool,
        all_suppressed: bool,
    ) -> GroupTable {
        GroupTable {
            chart_id: "grafica-q".into(),
            caption: format!("{question}, por sexo"),
            question: question.into(),
            counts: Some(
                "Personas consideradas: 87 · respondieron: 87 · prefirieron no contestar: 0."
                    .into(),
            ),
            rows,
            bars: Vec::new(),
            empty,
            all_suppressed,
            coarsened: false,
        }
    }

    #[test]
    fn a_question_whose_counts_are_all_suppressed_says_so_and_never_that_nobody_answered() {
        let hidden = vec!["suprimido".to_string(); 4];
        let page = StatisticsPage {
            election: "Proceso Electoral Local 2026".into(),
            cut_off: "6 de diciembre de 2026".into(),
            lines: Vec::new(),
            progress_bars: Vec::new(),
            groups: vec![
                group(
                    "¿Vive con alguna discapacidad?",
                    vec![("Sí".into(), hidden.clone()), ("No".into(), hidden)],
                    false,
                    true,
                ),
                group(
                    "¿Se reconoce como persona migrante?",
                    vec![("Sí".into(), vec!["0".into(); 4])],
                    true,
                    false,
                ),
            ],
            figures: Vec::new(),
            privacy: None,
        }
        .render()
        .unwrap();
        let (disability, migrant) = page
            .split_once("¿Se reconoce como persona migrante?")
            .unwrap();
        assert!(disability.contains("Todas las cifras de esta pregunta se suprimen"));
        assert!(disability.contains("<td>suprimido</td>"));
        assert!(!disability.contains("Todavía nadie respondió"));
        assert!(migrant.contains("Todavía nadie respondió esta pregunta"));
    }

    #[test]
    fn under_differential_privacy_every_count_has_its_margin_and_the_ledger_is_shown() {
        let mut years = group(
            "¿Cuántos años vivió fuera del país?",
            vec![(
                "De 1 a 5".into(),
                vec![
                    "12 ± 7".into(),
                    "agrupada".into(),
                    "0 ± 7".into(),
                    "14 ± 9".into(),
                ],
            )],
            false,
            false,
        );
        years.coarsened = true;
        let page = StatisticsPage {
            election: "Proceso Electoral Local 2027".into(),
            cut_off: "30/04/2027 12:00 (CST)".into(),
            lines: Vec::new(),
            progress_bars: Vec::new(),
            groups: vec![years],
            figures: Vec::new(),
            privacy: Some(PrivacyView {
                budget: "3.00".into(),
                remaining: "2.00".into(),
                delta: "0.000001".into(),
                releases: vec![PrivacyRelease {
                    sequence: 1,
                    released_at: "30/04/2027 12:00 (CST)".into(),
                    cut_off: "30/04/2027 12:00 (CST)".into(),
                    rho: "1.00".into(),
                    rho_total: "1.00".into(),
                    epsilon: "7.77".into(),
                    scale: "7.9".into(),
                }],
            }),
        }
        .render()
        .unwrap();
        assert!(page.contains("<td>12 ± 7</td>"));
        assert!(page.contains("margen de error al 90"));
        assert!(page.contains("«agrupada»"));
        assert!(page.contains("Registro de pérdida de privacidad"));
        assert!(page.contains("<td>7.77</td>"));
        assert!(!page.contains("Las cifras pequeñas se suprimen"));
    }
}
