//! The demo's illustrative emblems: plain shapes in colours people associate with each party, a
//! mark for the electoral body. They are not the parties' or the bodies' real emblems (those are
//! theirs to upload), only enough for the demo's cards and header to look as they will.

/// The SVG of the demo emblem of `owner` (`''` the electoral body, in `body_color`).
pub fn svg(owner: &str, body_color: &str) -> String {
    let shape = match owner {
        "" => format!(
            r##"<rect x="4" y="4" width="92" height="92" rx="14" fill="{body_color}"/><path d="M26 52l16 16 32-36" fill="none" stroke="#fff" stroke-width="10" stroke-linecap="round" stroke-linejoin="round"/>"##
        ),
        "PAN" => r##"<rect width="100" height="100" fill="#0b4ea2"/><circle cx="50" cy="50" r="34" fill="#fff"/><circle cx="50" cy="50" r="20" fill="#0b4ea2"/>"##.into(),
        "PRI" => stripes(&["#00843d", "#ffffff", "#ce1126"], true),
        "MORENA" => r##"<rect width="100" height="100" rx="10" fill="#8a1538"/><rect x="18" y="42" width="64" height="16" fill="#fff"/>"##.into(),
        "PT" => r##"<rect width="100" height="100" fill="#d8262e"/><polygon points="50,14 61,40 89,40 66,57 75,85 50,68 25,85 34,57 11,40 39,40" fill="#ffdd00"/>"##.into(),
        "PVEM" => r##"<rect width="100" height="100" fill="#4aa02c"/><path d="M50 16c22 16 22 52 0 68-22-16-22-52 0-68z" fill="#fff"/>"##.into(),
        "MC" => r##"<rect width="100" height="100" fill="#f58025"/><path d="M20 78l16-56 14 34 14-34 16 56" fill="none" stroke="#fff" stroke-width="9" stroke-linejoin="round"/>"##.into(),
        "UDC" => r##"<rect width="100" height="100" fill="#ffffff" stroke="#e4002b" stroke-width="8"/><rect x="22" y="22" width="56" height="56" fill="#e4002b"/>"##.into(),
        "COA1" => stripes(&["#ce1126", "#0b4ea2", "#e4002b"], false),
        "COA2" => stripes(&["#0b4ea2", "#ce1126"], false),
        _ => r##"<rect width="100" height="100" rx="50" fill="#4a4a4a"/><circle cx="50" cy="38" r="16" fill="#fff"/><path d="M22 82c4-18 14-26 28-26s24 8 28 26z" fill="#fff"/>"##.into(),
    };
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">{shape}</svg>"#
    )
}

/// Vertical (or horizontal) bands of equal width.
fn stripes(colors: &[&str], vertical: bool) -> String {
    let band = 100.0 / colors.len() as f64;
    colors
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let at = band * i as f64;
            if vertical {
                format!(r#"<rect x="{at}" y="0" width="{band}" height="100" fill="{c}"/>"#)
            } else {
                format!(r#"<rect x="0" y="{at}" width="100" height="{band}" fill="{c}"/>"#)
            }
        })
        .collect()
}
